# The prod us-west-2 network: VPC, subnet tiers, NAT, flow logs, security groups.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/network.hcl"
}
