# Common configuration of the SARC-NG reservation notifications: an SQS queue (with its dead-letter
# queue) the API publishes reservation events to, consumed by the API's job image
# (modules/compute/lambda-sqs-consumer). Units wire in the VPC and the database.
terraform {
  source = "${get_repo_root()}/modules//compute/lambda-sqs-consumer"
}

locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
}

inputs = {
  name                = "sarcng-api-notifications-${local.env.environment}-${local.region.region_code}"
  description         = "Sends reservation notifications from the API's events"
  image_uri           = "${local.account.account_id}.dkr.ecr.${local.region.aws_region}.amazonaws.com/sarcng-api-lambda:${local.env.sarcng_api_version}"
  image_command       = ["notifications"]
  batch_size          = 10
  maximum_concurrency = 5
  log_retention_days  = local.env.log_retention_days
}
