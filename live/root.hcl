# Root configuration of the staging and prod units: supported versions, remote state and the AWS
# provider.
#
# Each unit includes exactly one root with find_in_parent_folders("root.hcl"), which finds the
# nearest: this file, or accounts/dev/root.hcl for dev (the same settings plus a LocalStack
# switch). Roots are named root.hcl, not terragrunt.hcl, so that `terragrunt run --all` never
# mistakes one for a unit. A root never includes another file, as Terragrunt allows a single level
# of include; shared values are read from common.hcl and from the unit's account.hcl, region.hcl
# and env.hcl.

locals {
  common  = read_terragrunt_config(find_in_parent_folders("common.hcl")).locals
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals

  # State lives in the region's own bucket and lock table where region.hcl says so (prod's
  # disaster-recovery region, so that it can be managed while us-east-1 is down), and in the
  # account's primary bucket otherwise.
  state_region = try(local.region.state_region, local.common.state_region)
  state_bucket = (
    local.state_region == local.common.state_region
    ? "${local.common.state_bucket_prefix}-${local.account.account_id}"
    : "${local.common.state_bucket_prefix}-${local.account.account_id}-${local.state_region}"
  )
}

terraform_version_constraint  = local.common.terraform_version_constraint
terragrunt_version_constraint = local.common.terragrunt_version_constraint

# Each unit's state lives at <unit path>/terraform.tfstate in its bucket, locked in the lock table
# of the bucket's region. Terragrunt creates both on first use, encrypted and private.
remote_state {
  backend = "s3"
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }
  config = {
    bucket         = local.state_bucket
    key            = "${path_relative_to_include()}/terraform.tfstate"
    region         = local.state_region
    encrypt        = true
    dynamodb_table = local.common.lock_table
  }
}

# Every IAM role a module creates carries the account's permissions boundary (created with the
# Slipway roles): the apply role may create no role without it. Modules that create no role do
# not declare the variable, and Terraform ignores the input there.
inputs = {
  permissions_boundary_arn = "arn:aws:iam::${local.account.account_id}:policy/${local.common.permissions_boundary_name}"
}

# Credentials come from the caller, already inside the account: Slipway assumes the account's
# plan role to plan and its apply role to apply (account.hcl), so the provider assumes no role
# itself and the read-only plan role never needs the right to assume the apply role.
# allowed_account_ids refuses to run with credentials of any other account. default_tags puts
# the required tags on every taggable resource.
generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<EOF
provider "aws" {
  region              = "${local.region.aws_region}"
  allowed_account_ids = ["${local.account.account_id}"]

  default_tags {
    tags = {
      Project     = "${local.common.project}"
      Environment = "${local.env.environment}"
      CostCenter  = "${local.common.cost_center}"
      Owner       = "${local.common.owner}"
      ManagedBy   = "${local.common.managed_by}"
    }
  }
}
EOF
}
