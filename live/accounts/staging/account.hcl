# The AWS account of the staging environment, and the roles Slipway assumes in it: the plan role
# (read-only) and the apply role, created by the _global/slipway-roles unit. These values match
# slipway.toml.
locals {
  account_name   = "sarc-ng-staging"
  account_id     = "222222222222"
  plan_role_arn  = "arn:aws:iam::222222222222:role/slipway-plan"
  apply_role_arn = "arn:aws:iam::222222222222:role/slipway-apply"
}
