# Common configuration of the serverless SARC-NG API: the same application as a Lambda function
# behind an API Gateway HTTP API, for bursty public read traffic.
terraform {
  source = "${get_repo_root()}/modules//compute/lambda-http-api"
}

locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
}

inputs = {
  name                 = "sarcng-api-http-${local.env.environment}-${local.region.region_code}"
  description          = "SARC-NG API (serverless)"
  image_uri            = "${local.account.account_id}.dkr.ecr.${local.region.aws_region}.amazonaws.com/sarcng-api-lambda:${local.env.sarcng_api_version}"
  memory_mb            = 1024
  timeout_seconds      = 29
  log_group_name       = "/aws/lambda/sarc-ng-api"
  log_retention_days   = local.env.log_retention_days
  cors_allowed_origins = ["https://app.${local.env.domain_name}"]
}
