# The prod database in the DR region: a read-only secondary of the Aurora global database,
# promoted by a global failover. Users and data (credentials included) come from the primary.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/database.hcl"
}

dependency "network" {
  config_path = "../network"

  mock_outputs = {
    database_subnet_ids        = ["subnet-0c00000000000000a", "subnet-0c00000000000000b"]
    database_security_group_id = "sg-0d00000000000000d"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "primary_database" {
  config_path = "../../us-east-1/database"

  mock_outputs = {
    global_cluster_identifier = "sarc-ng-prod-use1"
    master_secret_replica_arns = {
      "us-west-2" = "arn:aws:secretsmanager:us-west-2:333333333333:secret:sarc-ng-prod-use1/database/master-AbCdEf"
    }
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

inputs = {
  subnet_ids         = dependency.network.outputs.database_subnet_ids
  security_group_ids = [dependency.network.outputs.database_security_group_id]

  global_cluster_identifier = dependency.primary_database.outputs.global_cluster_identifier
  master_secret_arn         = dependency.primary_database.outputs.master_secret_replica_arns["us-west-2"]
}
