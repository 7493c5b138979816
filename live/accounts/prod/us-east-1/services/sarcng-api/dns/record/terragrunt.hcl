# api.sarc-ng.example.com, failover PRIMARY: answers while the us-east-1 API passes its health
# check; otherwise Route53 answers with the us-west-2 record.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/services/sarcng-api/dns/record.hcl"
}

dependency "dns" {
  config_path = "../../../../dns"

  mock_outputs = {
    zone_id = "Z0123456789ABCDEFGHIJ"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "api" {
  config_path = "../../ecs-alb-service"

  mock_outputs = {
    alb_dns_name = "sarcng-api-prod-use1-0123456789.us-east-1.elb.amazonaws.com"
    alb_zone_id  = "Z35SXDOTRQ7X7K"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

inputs = {
  zone_id = dependency.dns.outputs.zone_id
  alias_target = {
    dns_name = dependency.api.outputs.alb_dns_name
    zone_id  = dependency.api.outputs.alb_zone_id
  }

  routing_policy = "failover"
  failover_role  = "PRIMARY"
  set_identifier = "us-east-1"

  # Probes the us-east-1 load balancer itself (the module's default fqdn), not
  # api.sarc-ng.example.com, which resolves to us-west-2 once this record fails over.
  health_check = { path = "/health" }
}
