# Slipway itself: the GitOps agent that plans and applies this repository, running in the prod
# account (the most protected one) and reaching dev and staging through their slipway-* roles.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "${get_repo_root()}/modules//slipway-service"
}

# Slipway plans and applies every account, so it may assume every account's roles; reading the
# account files makes this unit change whenever one of them does.
locals {
  dev      = read_terragrunt_config("${get_terragrunt_dir()}/../../../../dev/account.hcl").locals
  staging  = read_terragrunt_config("${get_terragrunt_dir()}/../../../../staging/account.hcl").locals
  prod     = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  region   = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
  env      = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  hostname = "slipway.${local.env.domain_name}"
}

dependency "ecs_cluster" {
  config_path = "../../compute/ecs-cluster"

  mock_outputs = {
    cluster_arn  = "arn:aws:ecs:us-east-1:333333333333:cluster/sarc-ng-prod-use1"
    cluster_name = "sarc-ng-prod-use1"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "network" {
  config_path = "../../network"

  mock_outputs = {
    vpc_id                      = "vpc-0123456789abcdef0"
    public_subnet_ids           = ["subnet-0a00000000000000a", "subnet-0a00000000000000b"]
    private_subnet_ids          = ["subnet-0b00000000000000a", "subnet-0b00000000000000b"]
    alb_security_group_id       = "sg-0a00000000000000a"
    ecs_tasks_security_group_id = "sg-0b00000000000000b"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "dns" {
  config_path = "../../dns"

  mock_outputs = {
    zone_id         = "Z0123456789ABCDEFGHIJ"
    certificate_arn = "arn:aws:acm:us-east-1:333333333333:certificate/00000000-0000-0000-0000-000000000000"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

inputs = {
  name            = "sarc-ng-slipway"
  container_image = "${local.prod.account_id}.dkr.ecr.${local.region.aws_region}.amazonaws.com/slipway:0.1.0"
  cpu             = 1024
  memory          = 2048

  target_role_arns = [
    local.dev.plan_role_arn,
    local.dev.apply_role_arn,
    local.staging.plan_role_arn,
    local.staging.apply_role_arn,
    local.prod.plan_role_arn,
    local.prod.apply_role_arn,
  ]

  environment = {
    SLIPWAY_LISTEN     = "0.0.0.0:8080"
    SLIPWAY_PUBLIC_URL = "https://${local.hostname}"
    SLIPWAY_LOG_FORMAT = "json"
    RUST_LOG           = "info"
  }

  cluster_arn            = dependency.ecs_cluster.outputs.cluster_arn
  cluster_name           = dependency.ecs_cluster.outputs.cluster_name
  vpc_id                 = dependency.network.outputs.vpc_id
  public_subnet_ids      = dependency.network.outputs.public_subnet_ids
  private_subnet_ids     = dependency.network.outputs.private_subnet_ids
  alb_security_group_id  = dependency.network.outputs.alb_security_group_id
  task_security_group_id = dependency.network.outputs.ecs_tasks_security_group_id
  certificate_arn        = dependency.dns.outputs.certificate_arn
  dns_record = {
    zone_id = dependency.dns.outputs.zone_id
    name    = local.hostname
  }
}
