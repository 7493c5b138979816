# Common configuration of the SARC-NG database schema: migrations to schema_version from env.hcl,
# applied by a function in the VPC before the API services roll out.
terraform {
  source = "${get_repo_root()}/modules//database-schema"
}

locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
}

inputs = {
  name           = "sarcng-api-schema-${local.env.environment}-${local.region.region_code}"
  image_uri      = "${local.account.account_id}.dkr.ecr.${local.region.aws_region}.amazonaws.com/sarcng-api-migrations:${local.env.sarcng_api_version}"
  schema_version = local.env.schema_version
}
