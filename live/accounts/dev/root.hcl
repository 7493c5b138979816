# Root configuration of the dev units: the same versions, remote state and provider as
# live/root.hcl, plus a LocalStack switch so a change can be tried locally before it reaches the
# account:
#
#   LOCALSTACK=true terragrunt plan                                   # http://localhost:4566
#   LOCALSTACK=true LOCALSTACK_ENDPOINT=http://127.0.0.1:4567 terragrunt plan
#
# Dev units include this file instead of live/root.hcl: find_in_parent_folders("root.hcl") finds
# the nearest. It reads, rather than includes, the shared settings: Terragrunt allows one level of
# include.

locals {
  common  = read_terragrunt_config(find_in_parent_folders("common.hcl")).locals
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals

  localstack          = get_env("LOCALSTACK", "false") == "true"
  localstack_endpoint = get_env("LOCALSTACK_ENDPOINT", "http://localhost:4566")

  # Where state and locks go with LocalStack, as Terraform's S3 backend spells it since 1.6 (the
  # `endpoint`, `*_endpoint` and `force_path_style` keys before it are deprecated). Either an
  # `endpoints` object or nothing, so both sides of the conditional are maps of one type.
  localstack_backend_endpoints = local.localstack ? {
    endpoints = {
      s3       = local.localstack_endpoint
      sts      = local.localstack_endpoint
      iam      = local.localstack_endpoint
      dynamodb = local.localstack_endpoint
    }
  } : {}

  default_tags = <<EOF
  default_tags {
    tags = {
      Project     = "${local.common.project}"
      Environment = "${local.env.environment}"
      CostCenter  = "${local.common.cost_center}"
      Owner       = "${local.common.owner}"
      ManagedBy   = "${local.common.managed_by}"
    }
  }
EOF

  aws_provider = <<EOF
provider "aws" {
  region              = "${local.region.aws_region}"
  allowed_account_ids = ["${local.account.account_id}"]

${local.default_tags}
}
EOF

  # Credentials come from the environment (LocalStack accepts any, for example
  # AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test).
  localstack_provider = <<EOF
provider "aws" {
  region                      = "${local.region.aws_region}"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true

  endpoints {
    acm                    = "${local.localstack_endpoint}"
    apigatewayv2           = "${local.localstack_endpoint}"
    applicationautoscaling = "${local.localstack_endpoint}"
    cloudwatch             = "${local.localstack_endpoint}"
    dynamodb               = "${local.localstack_endpoint}"
    ec2                    = "${local.localstack_endpoint}"
    ecs                    = "${local.localstack_endpoint}"
    elbv2                  = "${local.localstack_endpoint}"
    events                 = "${local.localstack_endpoint}"
    iam                    = "${local.localstack_endpoint}"
    kms                    = "${local.localstack_endpoint}"
    lambda                 = "${local.localstack_endpoint}"
    logs                   = "${local.localstack_endpoint}"
    rds                    = "${local.localstack_endpoint}"
    route53                = "${local.localstack_endpoint}"
    s3                     = "${local.localstack_endpoint}"
    secretsmanager         = "${local.localstack_endpoint}"
    sns                    = "${local.localstack_endpoint}"
    sqs                    = "${local.localstack_endpoint}"
    sts                    = "${local.localstack_endpoint}"
  }

${local.default_tags}
}
EOF
}

terraform_version_constraint  = local.common.terraform_version_constraint
terragrunt_version_constraint = local.common.terragrunt_version_constraint

remote_state {
  backend = "s3"
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }
  config = merge(
    {
      bucket         = "${local.common.state_bucket_prefix}-${local.account.account_id}"
      key            = "${path_relative_to_include()}/terraform.tfstate"
      region         = local.common.state_region
      encrypt        = true
      dynamodb_table = local.common.lock_table

      use_path_style              = local.localstack
      skip_credentials_validation = local.localstack
      skip_metadata_api_check     = local.localstack
      skip_region_validation      = local.localstack
      skip_requesting_account_id  = local.localstack
    },
    local.localstack_backend_endpoints,
  )
}

# As in live/root.hcl: every IAM role a module creates carries the account's permissions boundary.
inputs = {
  permissions_boundary_arn = "arn:aws:iam::${local.account.account_id}:policy/${local.common.permissions_boundary_name}"
}

generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = local.localstack ? local.localstack_provider : local.aws_provider
}
