# The prod SARC-NG database: Aurora MySQL, primary of the global database whose secondary runs
# in us-west-2; its credentials secret is replicated there.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path   = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/database.hcl"
  expose = true
}

dependency "network" {
  config_path = "../network"

  mock_outputs = {
    database_subnet_ids        = ["subnet-0c00000000000000a", "subnet-0c00000000000000b"]
    database_security_group_id = "sg-0d00000000000000d"
    private_subnet_ids         = ["subnet-0b00000000000000a", "subnet-0b00000000000000b"]
    lambda_security_group_id   = "sg-0c00000000000000c"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

inputs = {
  subnet_ids         = dependency.network.outputs.database_subnet_ids
  security_group_ids = [dependency.network.outputs.database_security_group_id]

  # The password rotation function runs in the private subnets, in the group the database accepts.
  rotation_subnet_ids         = dependency.network.outputs.private_subnet_ids
  rotation_security_group_ids = [dependency.network.outputs.lambda_security_group_id]

  create_global_cluster  = true
  global_cluster_name    = include.envcommon.locals.db.global_cluster_identifier
  secret_replica_regions = ["us-west-2"]
}
