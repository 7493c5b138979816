# Common configuration of every account's _global/budget unit: the environment's monthly cost
# budget (env.hcl monthly_budget_usd), alerting the environment's alarm addresses.
terraform {
  source = "${get_repo_root()}/modules//budget"
}

locals {
  env = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
}

inputs = {
  name                  = "sarc-ng-${local.env.environment}"
  monthly_limit_usd     = local.env.monthly_budget_usd
  alert_email_addresses = local.env.alarm_email_addresses
}
