# The prod hosted zone (the parent sarc-ng.example.com), its wildcard certificate in us-east-1,
# and the delegation of the dev and staging subzones, which live in their own accounts: their NS
# records here are what makes them answer (and their certificates validate). Prod applies last,
# so a new subzone is bootstrapped in order (live/README.md, "DNS bootstrap order").

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/dns.hcl"
}

# Slipway reads these outputs from the dev and staging state with those accounts' own roles.
dependency "dev_dns" {
  config_path = "../../../dev/us-east-1/dns"

  mock_outputs = {
    domain_name  = "dev.sarc-ng.example.com"
    name_servers = ["ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk", "ns-3.awsdns-03.com", "ns-4.awsdns-04.net"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "staging_dns" {
  config_path = "../../../staging/us-east-1/dns"

  mock_outputs = {
    domain_name  = "staging.sarc-ng.example.com"
    name_servers = ["ns-5.awsdns-05.org", "ns-6.awsdns-06.co.uk", "ns-7.awsdns-07.com", "ns-8.awsdns-08.net"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

inputs = {
  delegations = {
    (dependency.dev_dns.outputs.domain_name)     = dependency.dev_dns.outputs.name_servers
    (dependency.staging_dns.outputs.domain_name) = dependency.staging_dns.outputs.name_servers
  }
}
