# The prod zone seen from the DR region: no second zone, only a us-west-2 certificate validated
# in the primary's zone.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/dns.hcl"
}

dependency "primary_dns" {
  config_path = "../../us-east-1/dns"

  mock_outputs = {
    zone_id = "Z0123456789ABCDEFGHIJ"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

inputs = {
  create_zone = false
  zone_id     = dependency.primary_dns.outputs.zone_id
}
