# Common configuration of the SARC-NG API's public name, api.<domain>, pointing at its load
# balancer. Prod units add failover routing between the primary and the DR region.
terraform {
  source = "${get_repo_root()}/modules//dns/record"
}

locals {
  env = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
}

inputs = {
  name = "api.${local.env.domain_name}"
}
