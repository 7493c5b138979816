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
    endpoint          = "sarc-ng-prod-use1.cluster-c0prd0000000.us-east-1.rds.amazonaws.com"
    reader_endpoint   = "sarc-ng-prod-use1.cluster-ro-c0prd0000000.us-east-1.rds.amazonaws.com"
    port              = 3306
    database_name     = "sarcng"
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

  # Where the database is comes from this region's own database unit: in the DR region, the
  # us-west-2 cluster, never the host in the credentials secret (the primary's secret,
  # replicated, names the us-east-1 writer). Kept in SSM Parameter Store; only the credentials
  # come from the secret.
  parameters = {
    DB_HOST      = dependency.database.outputs.endpoint
    DB_READ_HOST = dependency.database.outputs.reader_endpoint
    DB_PORT      = dependency.database.outputs.port
    DB_NAME      = dependency.database.outputs.database_name
  }
  secrets = {
    DB_USER     = { secret_arn = dependency.database.outputs.master_secret_arn, json_key = "username" }
    DB_PASSWORD = { secret_arn = dependency.database.outputs.master_secret_arn, json_key = "password" }
  }
  secrets_kms_key_arns = [dependency.database.outputs.kms_key_arn]
}
