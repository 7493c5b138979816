# Common configuration of every account's _global/slipway-roles unit: the plan and apply roles
# Slipway assumes in the account, trusted by Slipway's task role with the external id.
terraform {
  source = "${get_repo_root()}/modules//slipway-roles"
}

locals {
  common  = read_terragrunt_config(find_in_parent_folders("common.hcl")).locals
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals

  own_state_regions = try(local.account.own_state_regions, [])
}

inputs = {
  trusted_role_arns = [local.common.slipway_task_role_arn]
  external_id       = local.common.slipway_external_id
  state_bucket_name = "${local.common.state_bucket_prefix}-${local.account.account_id}"
  lock_table_name   = local.common.lock_table

  # Regions that keep their state in a bucket of their own (prod's DR region, region.hcl).
  extra_state_bucket_names = [
    for region in local.own_state_regions :
    "${local.common.state_bucket_prefix}-${local.account.account_id}-${region}"
  ]

  permissions_boundary_name = local.common.permissions_boundary_name
}
