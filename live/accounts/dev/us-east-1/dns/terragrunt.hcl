# The dev hosted zone and its wildcard certificate in us-east-1.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/dns.hcl"
}
