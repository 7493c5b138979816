# The staging us-east-1 SARC-NG web front end on ECS Fargate, with its own name in the zone.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path   = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/services/sarcng-web.hcl"
  expose = true
}

dependency "ecs_cluster" {
  config_path = "../../compute/ecs-cluster"

  mock_outputs = {
    cluster_arn  = "arn:aws:ecs:us-east-1:222222222222:cluster/sarc-ng-staging-use1"
    cluster_name = "sarc-ng-staging-use1"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "network" {
  config_path = "../../network"

  mock_outputs = {
    vpc_id                      = "vpc-0123456789abcdef0"
    public_subnet_ids           = ["subnet-0a00000000000000a", "subnet-0a00000000000000b"]
    private_subnet_ids          = ["subnet-0b00000000000000a", "subnet-0b00000000000000b"]
    alb_security_group_id       = "sg-0a00000000000000a"
    ecs_tasks_security_group_id = "sg-0b00000000000000b"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan", "init"]
}

dependency "dns" {
  config_path = "../../dns"

  mock_outputs = {
    zone_id         = "Z0123456789ABCDEFGHIJ"
    certificate_arn = "arn:aws:acm:us-east-1:222222222222:certificate/00000000-0000-0000-0000-000000000000"
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
  dns_record = {
    zone_id = dependency.dns.outputs.zone_id
    name    = include.envcommon.locals.hostname
  }
}
