# The prod us-east-1 SARC-NG API on ECS Fargate behind its own load balancer. Database
# credentials are read from Secrets Manager when a task starts.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/services/sarcng-api/ecs-alb-service.hcl"
}

# The API runs on the schema its version expects: migrations first.
dependencies {
  paths = ["../schema"]
}

dependency "ecs_cluster" {
  config_path = "../../../compute/ecs-cluster"

  mock_outputs = {
    cluster_arn  = "arn:aws:ecs:us-east-1:333333333333:cluster/sarc-ng-prod-use1"
    cluster_name = "sarc-ng-prod-use1"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "network" {
  config_path = "../../../network"

  mock_outputs = {
    vpc_id                      = "vpc-0123456789abcdef0"
    public_subnet_ids           = ["subnet-0a00000000000000a", "subnet-0a00000000000000b"]
    private_subnet_ids          = ["subnet-0b00000000000000a", "subnet-0b00000000000000b"]
    alb_security_group_id       = "sg-0a00000000000000a"
    ecs_tasks_security_group_id = "sg-0b00000000000000b"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "database" {
  config_path = "../../../database"

  mock_outputs = {
    master_secret_arn = "arn:aws:secretsmanager:us-east-1:333333333333:secret:sarc-ng-prod-use1/database/master-AbCdEf"
    kms_key_arn       = "arn:aws:kms:us-east-1:333333333333:key/00000000-0000-0000-0000-000000000000"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "dns" {
  config_path = "../../../dns"

  mock_outputs = {
    certificate_arn = "arn:aws:acm:us-east-1:333333333333:certificate/00000000-0000-0000-0000-000000000000"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

inputs = {
  cluster_arn            = dependency.ecs_cluster.outputs.cluster_arn
  cluster_name           = dependency.ecs_cluster.outputs.cluster_name
  vpc_id                 = dependency.network.outputs.vpc_id
  public_subnet_ids      = dependency.network.outputs.public_subnet_ids
  private_subnet_ids     = dependency.network.outputs.private_subnet_ids
  alb_security_group_id  = dependency.network.outputs.alb_security_group_id
  task_security_group_id = dependency.network.outputs.ecs_tasks_security_group_id
  certificate_arn        = dependency.dns.outputs.certificate_arn

  secrets = {
    DB_HOST     = { secret_arn = dependency.database.outputs.master_secret_arn, json_key = "host" }
    DB_PORT     = { secret_arn = dependency.database.outputs.master_secret_arn, json_key = "port" }
    DB_NAME     = { secret_arn = dependency.database.outputs.master_secret_arn, json_key = "dbname" }
    DB_USER     = { secret_arn = dependency.database.outputs.master_secret_arn, json_key = "username" }
    DB_PASSWORD = { secret_arn = dependency.database.outputs.master_secret_arn, json_key = "password" }
  }
  secrets_kms_key_arns = [dependency.database.outputs.kms_key_arn]
}
