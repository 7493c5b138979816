# The AWS account of the prod environment, and the roles Slipway assumes in it: the plan role
# (read-only) and the apply role, created by the _global/slipway-roles unit. These values match
# slipway.toml.
locals {
  account_name   = "sarc-ng-prod"
  account_id     = "333333333333"
  plan_role_arn  = "arn:aws:iam::333333333333:role/slipway-plan"
  apply_role_arn = "arn:aws:iam::333333333333:role/slipway-apply"

  # Regions whose units keep their state in their own bucket and lock table (their region.hcl
  # sets state_region): the plan and apply roles are given those buckets too.
  own_state_regions = ["us-west-2"]
}
