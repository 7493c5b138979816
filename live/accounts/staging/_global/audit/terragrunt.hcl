# CloudTrail of the staging account: every management event, all regions, into an encrypted bucket.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/audit.hcl"
}
