# Common configuration of every region's observability unit: the alarm topic and its
# subscribers, and the shared audit log group. Units wire in what the alarms watch.
terraform {
  source = "${get_repo_root()}/modules//observability"
}

locals {
  env    = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  region = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
}

inputs = {
  name                           = "sarc-ng-${local.env.environment}-${local.region.region_code}"
  alarm_email_addresses          = local.env.alarm_email_addresses
  cpu_threshold_percent          = 80
  database_connections_threshold = 80
  http_5xx_threshold             = 10
  # The API's own metrics (reservation_success_rate, resource_utilization, api_response_time,
  # database_connection_pool), alarmed with the module's default thresholds.
  application_metrics_namespace = "SARC-NG"
  application_metric_dimensions = {
    Environment = local.env.environment
    Service     = "sarcng-api"
  }

  log_groups = {
    "/sarc-ng/${local.env.environment}/${local.region.region_code}/audit" = 365
  }
}
