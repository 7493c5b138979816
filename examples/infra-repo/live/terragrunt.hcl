# Root configuration, included by every unit.
locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl"))
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl"))
}

remote_state {
  backend = "local"
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }
  config = {
    path = "${get_repo_root()}/.state/${path_relative_to_include()}/terraform.tfstate"
  }
}

inputs = {
  environment = local.env.locals.environment
  aws_region  = local.region.locals.aws_region
}
