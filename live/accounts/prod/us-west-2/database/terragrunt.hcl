# The prod database in the DR region: a read-only secondary of the Aurora global database
# sarc-ng-global, promoted by a global failover. Users and data (credentials included) come from
# the primary.
#
# It reads no output of the us-east-1 units: the global database is named in env.hcl and the
# credentials secret's replica is found by name, so this unit can be planned and applied from its
# own state while us-east-1 is down (live/README.md, "Disaster recovery").

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path   = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/database.hcl"
  expose = true
}

# The global database and the secret's replica exist once the primary is applied.
dependencies {
  paths = ["../../us-east-1/database"]
}

dependency "network" {
  config_path = "../network"

  mock_outputs = {
    database_subnet_ids        = ["subnet-0c00000000000000a", "subnet-0c00000000000000b"]
    database_security_group_id = "sg-0d00000000000000d"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

inputs = {
  subnet_ids         = dependency.network.outputs.database_subnet_ids
  security_group_ids = [dependency.network.outputs.database_security_group_id]

  global_cluster_identifier = include.envcommon.locals.db.global_cluster_identifier
  master_secret_name        = "sarc-ng-prod-use1/database/master"
}
