# Common configuration of the SARC-NG web front end on ECS, at app.<domain> in the primary
# region and app-<region code>.<domain> elsewhere.
terraform {
  source = "${get_repo_root()}/modules//compute/ecs-alb-service"
}

locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals

  hostname = local.region.is_primary ? "app.${local.env.domain_name}" : "app-${local.region.region_code}.${local.env.domain_name}"
}

inputs = {
  name            = "sarcng-web-${local.env.environment}-${local.region.region_code}"
  container_image = "${local.account.account_id}.dkr.ecr.${local.region.aws_region}.amazonaws.com/sarcng-web:${local.env.sarcng_web_version}"
  container_port  = 8080
  cpu             = local.env.service.cpu
  memory          = local.env.service.memory
  desired_count   = local.env.service.desired_count
  min_capacity    = local.env.service.min_capacity
  max_capacity    = local.env.service.max_capacity

  capacity_provider_strategy = local.env.service_capacity_provider_strategy
  scheduled_scaling          = local.env.service_scheduled_scaling

  health_check_path          = "/"
  log_group_name             = "/ecs/sarc-ng/web"
  log_retention_days         = local.env.log_retention_days
  enable_deletion_protection = local.env.alb_deletion_protection

  environment = {
    API_URL = "https://api.${local.env.domain_name}"
  }
}
