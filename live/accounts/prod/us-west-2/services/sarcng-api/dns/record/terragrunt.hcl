# api.sarc-ng.example.com, failover SECONDARY: answers when the us-east-1 record is unhealthy.
# Each side's health check probes its own region's load balancer, never the shared name.

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
    alb_dns_name = "sarcng-api-prod-usw2-0123456789.us-west-2.elb.amazonaws.com"
    alb_zone_id  = "Z1H1FL5HABSF5"
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
  failover_role  = "SECONDARY"
  set_identifier = "us-west-2"

  # Probes the us-west-2 load balancer itself (the module's default), so Route53 knows when the
  # standby is down too.
  health_check = { path = "/health" }
}
