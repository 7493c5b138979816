# Common configuration of every account's _global/audit unit: the account's multi-region
# CloudTrail trail and its encrypted log bucket.
terraform {
  source = "${get_repo_root()}/modules//audit"
}

locals {
  env = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
}

inputs = {
  name           = "sarc-ng-${local.env.environment}"
  retention_days = 365
}
