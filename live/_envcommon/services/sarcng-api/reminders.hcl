# Common configuration of the SARC-NG reservation reminders: the API's job image run every morning
# by an EventBridge schedule (modules/compute/lambda-event-bridge). Units wire in the VPC and the
# database.
terraform {
  source = "${get_repo_root()}/modules//compute/lambda-event-bridge"
}

locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
}

inputs = {
  name                = "sarcng-api-reminders-${local.env.environment}-${local.region.region_code}"
  description         = "Sends the day's reservation reminders"
  image_uri           = "${local.account.account_id}.dkr.ecr.${local.region.aws_region}.amazonaws.com/sarcng-api-lambda:${local.env.sarcng_api_version}"
  image_command       = ["reminders"]
  schedule_expression = "cron(0 7 * * ? *)"
  timeout_seconds     = 300
  log_retention_days  = local.env.log_retention_days
}
