# The staging us-east-1 ECS cluster the SARC-NG services run in.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/compute/ecs-cluster.hcl"
}

# No outputs are read: the cluster follows the network and data tiers so a promotion rolls out
# tier by tier (network, database, compute, services).
dependencies {
  paths = ["../../network", "../../database"]
}
