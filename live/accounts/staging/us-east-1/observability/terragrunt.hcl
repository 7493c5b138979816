# Alarms of staging us-east-1: service and database CPU, database connections, load balancer 5xx and
# application errors, all to the environment's alarm topic.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/observability.hcl"
}

dependency "ecs_cluster" {
  config_path = "../compute/ecs-cluster"

  mock_outputs = {
    cluster_name = "sarc-ng-staging-use1"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "database" {
  config_path = "../database"

  mock_outputs = {
    cloudwatch_dimensions = {
      DBInstanceIdentifier = "sarc-ng-staging-use1"
    }
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "api" {
  config_path = "../services/sarcng-api/ecs-alb-service"

  mock_outputs = {
    service_name   = "sarcng-api-staging-use1"
    alb_arn_suffix = "app/sarcng-api-staging-use1/0123456789abcdef"
    log_group_name = "/ecs/sarc-ng/api"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "lambda_api" {
  config_path = "../services/sarcng-api/lambda-http-api"

  mock_outputs = {
    log_group_name = "/aws/lambda/sarc-ng-api"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "web" {
  config_path = "../services/sarcng-web"

  mock_outputs = {
    service_name   = "sarcng-web-staging-use1"
    alb_arn_suffix = "app/sarcng-web-staging-use1/0123456789abcdef"
    log_group_name = "/ecs/sarc-ng/web"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

inputs = {
  ecs_cluster_name    = dependency.ecs_cluster.outputs.cluster_name
  ecs_service_names   = [dependency.api.outputs.service_name, dependency.web.outputs.service_name]
  database_dimensions = dependency.database.outputs.cloudwatch_dimensions

  load_balancers = {
    sarcng-api = dependency.api.outputs.alb_arn_suffix
    sarcng-web = dependency.web.outputs.alb_arn_suffix
  }
  error_log_groups = {
    sarcng-api      = dependency.api.outputs.log_group_name
    sarcng-api-http = dependency.lambda_api.outputs.log_group_name
    sarcng-web      = dependency.web.outputs.log_group_name
  }
}
