# Common configuration of every account's _global/slipway-roles unit: the plan and apply roles
# Slipway assumes in the account, trusted by Slipway's task role with the external id.
terraform {
  source = "${get_repo_root()}/modules//slipway-roles"
}

locals {
  common  = read_terragrunt_config(find_in_parent_folders("common.hcl")).locals
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
}

inputs = {
  trusted_role_arns = [local.common.slipway_task_role_arn]
  external_id       = local.common.slipway_external_id
  state_bucket_name = "${local.common.state_bucket_prefix}-${local.account.account_id}"
  lock_table_name   = local.common.lock_table
}
