# Settings shared by every environment, read (never included) by both root configurations:
# live/root.hcl (staging, prod) and accounts/dev/root.hcl (dev). Units also find the _envcommon
# directory next to this file.
locals {
  project     = "sarc-ng"
  cost_center = "engineering"
  owner       = "platform-team"
  managed_by  = "terraform"

  # Versions every unit is planned and applied with, as the modules' versions.tf state them:
  # Terraform 1.6 or later 1.x (the dev root's S3 backend uses the `endpoints` block and
  # `use_path_style` that 1.6 introduced; the modules use strcontains from 1.5), and a Terragrunt
  # that finds the roots as root.hcl.
  terraform_version_constraint  = ">= 1.6.0, < 2.0.0"
  terragrunt_version_constraint = ">= 0.68.0"

  # Terraform state: one bucket and one lock table per account, in the primary region, named
  # <state_bucket_prefix>-<account id>. A region whose region.hcl sets state_region (prod's
  # us-west-2) keeps its own bucket <state_bucket_prefix>-<account id>-<region> and lock table
  # there instead (live/README.md, "Disaster recovery").
  state_bucket_prefix = "sarc-ng-tfstate"
  state_region        = "us-east-1"
  lock_table          = "sarc-ng-tfstate-lock"

  # Slipway runs in the prod account (accounts/prod/us-east-1/services/slipway); every account's
  # plan and apply roles trust its task role, presenting this external id (slipway.toml).
  slipway_task_role_arn = "arn:aws:iam::333333333333:role/sarc-ng-slipway-task"
  slipway_external_id   = "slipway-sarc-ng"

  # The permissions boundary every role the apply role creates must carry (modules/slipway-roles).
  # Its name is outside the prefixes the apply role manages, so the apply role cannot change it.
  permissions_boundary_name = "slipway-workload-boundary"
}
