# The prod zone seen from the DR region: no second zone, only a us-west-2 certificate validated
# in the primary's zone, which the module finds by name: this unit reads no output of the
# us-east-1 units, so it can be applied from its own state while us-east-1 is down.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/dns.hcl"
}

# The zone exists once the primary's dns unit is applied.
dependencies {
  paths = ["../../us-east-1/dns"]
}

inputs = {
  create_zone = false
}
