# The dev us-east-1 SARC-NG reservation reminders, run every morning by an EventBridge schedule. In the VPC, to reach the database.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/services/sarcng-api/reminders.hcl"
}

# The job runs on the schema its version expects: migrations first.
dependencies {
  paths = ["../schema"]
}

dependency "network" {
  config_path = "../../../network"

  mock_outputs = {
    private_subnet_ids       = ["subnet-0b00000000000000a", "subnet-0b00000000000000b"]
    lambda_security_group_id = "sg-0c00000000000000c"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "database" {
  config_path = "../../../database"

  mock_outputs = {
    master_secret_arn = "arn:aws:secretsmanager:us-east-1:111111111111:secret:sarc-ng-dev-use1/database/master-AbCdEf"
    kms_key_arn       = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
    endpoint          = "sarc-ng-dev-use1.c0dev0000000.us-east-1.rds.amazonaws.com"
    port              = 3306
    database_name     = "sarcng"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

inputs = {
  subnet_ids         = dependency.network.outputs.private_subnet_ids
  security_group_ids = [dependency.network.outputs.lambda_security_group_id]
  secret_arns        = [dependency.database.outputs.master_secret_arn]
  kms_key_arns       = [dependency.database.outputs.kms_key_arn]

  environment = {
    APP_ENV             = "dev"
    LOG_FORMAT          = "json"
    DATABASE_SECRET_ARN = dependency.database.outputs.master_secret_arn
    DB_HOST             = dependency.database.outputs.endpoint
    DB_PORT             = dependency.database.outputs.port
    DB_NAME             = dependency.database.outputs.database_name
  }
}
