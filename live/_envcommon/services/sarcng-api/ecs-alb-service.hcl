# Common configuration of the SARC-NG API on ECS: image version and sizing from env.hcl, behind
# its own load balancer. Units wire in the cluster, network, certificate and database secret.
terraform {
  source = "${get_repo_root()}/modules//compute/ecs-alb-service"
}

locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
}

inputs = {
  name            = "sarcng-api-${local.env.environment}-${local.region.region_code}"
  container_image = "${local.account.account_id}.dkr.ecr.${local.region.aws_region}.amazonaws.com/sarcng-api:${local.env.sarcng_api_version}"
  container_port  = 8080
  cpu             = local.env.service.cpu
  memory          = local.env.service.memory
  desired_count   = local.env.service.desired_count
  min_capacity    = local.env.service.min_capacity
  max_capacity    = local.env.service.max_capacity

  capacity_provider_strategy = local.env.service_capacity_provider_strategy
  scheduled_scaling          = local.env.service_scheduled_scaling

  # Deployment settings (the database's location, wired by each unit) live in SSM Parameter
  # Store under this path.
  parameter_path = "/sarc-ng/${local.env.environment}/${local.region.region_code}/sarcng-api"

  health_check_path          = "/health"
  log_group_name             = "/ecs/sarc-ng/api"
  log_retention_days         = local.env.log_retention_days
  enable_deletion_protection = local.env.alb_deletion_protection

  environment = {
    APP_ENV     = local.env.environment
    AWS_REGION  = local.region.aws_region
    HTTP_PORT   = "8080"
    LOG_FORMAT  = "json"
    CORS_ORIGIN = "https://app.${local.env.domain_name}"

    # Where the API publishes its metrics (observability alarms on them).
    METRICS_NAMESPACE = "SARC-NG"
  }
}
