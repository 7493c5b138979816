# The AWS account of the dev environment, and the roles Slipway assumes in it: the plan role
# (read-only) and the apply role, created by the _global/slipway-roles unit. These values match
# slipway.toml.
locals {
  account_name   = "sarc-ng-dev"
  account_id     = "111111111111"
  plan_role_arn  = "arn:aws:iam::111111111111:role/slipway-plan"
  apply_role_arn = "arn:aws:iam::111111111111:role/slipway-apply"
}
