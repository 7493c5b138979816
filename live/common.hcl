# Settings shared by every environment, read (never included) by both root configurations:
# live/terragrunt.hcl (staging, prod) and accounts/dev/terragrunt.hcl (dev). Units also find the
# _envcommon directory next to this file.
locals {
  project     = "sarc-ng"
  cost_center = "engineering"
  owner       = "platform-team"
  managed_by  = "terraform"

  # Terraform state: one bucket and one lock table per account, in the primary region. The
  # bucket is named <state_bucket_prefix>-<account id>.
  state_bucket_prefix = "sarc-ng-tfstate"
  state_region        = "us-east-1"
  lock_table          = "sarc-ng-tfstate-lock"

  # Slipway runs in the prod account (accounts/prod/us-east-1/services/slipway); every account's
  # plan and apply roles trust its task role, presenting this external id (slipway.toml).
  slipway_task_role_arn = "arn:aws:iam::333333333333:role/sarc-ng-slipway-task"
  slipway_external_id   = "slipway-sarc-ng"
}
