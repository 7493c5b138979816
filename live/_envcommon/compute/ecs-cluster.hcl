# Common configuration of every region's ECS cluster, shared by the SARC-NG services.
terraform {
  source = "${get_repo_root()}/modules//compute/ecs-cluster"
}

locals {
  env    = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  region = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
}

inputs = {
  name               = "sarc-ng-${local.env.environment}-${local.region.region_code}"
  container_insights = true
}
