# Root configuration of the staging and prod units: remote state and the AWS provider.
#
# Each unit includes exactly one root, the nearest terragrunt.hcl above it: this file, or
# accounts/dev/terragrunt.hcl for dev (the same settings plus a LocalStack switch). A root never
# includes another file, as Terragrunt allows a single level of include; shared values are read
# from common.hcl and from the unit's account.hcl, region.hcl and env.hcl.

locals {
  common  = read_terragrunt_config(find_in_parent_folders("common.hcl")).locals
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
}

# Each unit's state lives at <unit path>/terraform.tfstate in its account's bucket, locked in its
# account's DynamoDB table. Terragrunt creates both on first use, encrypted and private.
remote_state {
  backend = "s3"
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }
  config = {
    bucket         = "${local.common.state_bucket_prefix}-${local.account.account_id}"
    key            = "${path_relative_to_include()}/terraform.tfstate"
    region         = local.common.state_region
    encrypt        = true
    dynamodb_table = local.common.lock_table
  }
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
