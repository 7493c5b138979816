# Common configuration of every region's dns unit: the environment's hosted zone and a regional
# wildcard certificate validated in it.
terraform {
  source = "${get_repo_root()}/modules//dns/zone"
}

locals {
  env = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
}

inputs = {
  domain_name = local.env.domain_name
}
