data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  blue_green   = var.deployment_controller == "CODE_DEPLOY"
  service_name = one(concat(aws_ecs_service.this[*].name, aws_ecs_service.blue_green[*].name))

  parameter_path = coalesce(var.parameter_path, "/${var.name}")

  # Secrets are read by ARN; a JSON key is addressed as "<arn>:<key>::" (no version stage or id).
  # Configuration parameters are read by their SSM ARN the same way.
  container_secrets = concat(
    [
      for name, secret in var.secrets : {
        name      = name
        valueFrom = secret.json_key == null ? secret.secret_arn : "${secret.secret_arn}:${secret.json_key}::"
      }
    ],
    [for name, parameter in aws_ssm_parameter.config : { name = name, valueFrom = parameter.arn }],
  )

  container_definition = {
    name        = var.name
    image       = var.container_image
    essential   = true
    command     = var.container_command
    environment = [for key in sort(keys(var.environment)) : { name = key, value = var.environment[key] }]
    secrets     = local.container_secrets
    portMappings = [{
      containerPort = var.container_port
      protocol      = "tcp"
    }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = var.name
      }
    }
  }
}

# --- Configuration ----------------------------------------------------------------------------
# Settings that depend on the deployment rather than the image (where the database is, for
# example) live in SSM Parameter Store, one String parameter each, and reach the container as
# environment variables when a task starts.

resource "aws_ssm_parameter" "config" {
  for_each = var.parameters

  name  = "${local.parameter_path}/${each.key}"
  type  = "String"
  value = each.value

  tags = var.tags
}

# --- Logs --------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  name              = coalesce(var.log_group_name, "/ecs/${var.name}")
  retention_in_days = var.log_retention_days

  tags = var.tags
}

# --- IAM: execution role (ECS agent) and task role (the application) ---------------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name                 = "${var.name}-execution"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

# Only what starting this task needs: pull the image, write to its own log group, read its own
# secrets and parameters.
data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "PullImages"
    actions   = ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = ["*"]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = length(var.secrets) > 0 ? [1] : []

    content {
      sid       = "ReadSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = distinct([for secret in values(var.secrets) : secret.secret_arn])
    }
  }

  dynamic "statement" {
    for_each = length(var.parameters) > 0 ? [1] : []

    content {
      sid       = "ReadParameters"
      actions   = ["ssm:GetParameters"]
      resources = [for parameter in aws_ssm_parameter.config : parameter.arn]
    }
  }

  dynamic "statement" {
    for_each = length(var.secrets_kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "DecryptSecrets"
      actions   = ["kms:Decrypt"]
      resources = var.secrets_kms_key_arns
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-task"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name                 = "${var.name}-task"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

resource "aws_iam_role_policy" "task" {
  count = var.task_role_policy_json == null ? 0 : 1

  name   = "application"
  role   = aws_iam_role.task.id
  policy = var.task_role_policy_json
}

# --- Load balancer -----------------------------------------------------------------------------

resource "aws_lb" "this" {
  name               = var.name
  load_balancer_type = "application"
  internal           = false
  subnets            = var.public_subnet_ids
  security_groups    = [var.alb_security_group_id]

  drop_invalid_header_fields = true
  enable_deletion_protection = var.enable_deletion_protection

  tags = var.tags
}

resource "aws_lb_target_group" "this" {
  name                 = var.name
  vpc_id               = var.vpc_id
  target_type          = "ip"
  protocol             = "HTTP"
  port                 = var.container_port
  deregistration_delay = var.deregistration_delay_seconds

  health_check {
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  lifecycle {
    # In blue-green mode CodeDeploy points the listener at the blue or the green target group;
    # otherwise it only ever forwards to this module's target group.
    ignore_changes = [default_action]
  }

  tags = var.tags
}

resource "aws_route53_record" "this" {
  count = var.dns_record == null ? 0 : 1

  zone_id = var.dns_record.zone_id
  name    = var.dns_record.name
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}

# --- Service -----------------------------------------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.container_definition])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  lifecycle {
    precondition {
      condition     = var.memory >= 2 * var.cpu && var.memory <= 8 * var.cpu
      error_message = "Fargate needs memory between 2 and 8 times cpu (for example 512 CPU with 1024-4096 MiB)."
    }
  }

  tags = var.tags
}

resource "aws_ecs_service" "this" {
  count = local.blue_green ? 0 : 1

  name                              = var.name
  cluster                           = var.cluster_arn
  task_definition                   = aws_ecs_task_definition.this.arn
  launch_type                       = length(var.capacity_provider_strategy) == 0 ? "FARGATE" : null
  desired_count                     = var.desired_count
  health_check_grace_period_seconds = var.health_check_grace_period_seconds

  # Rolling deployment: new tasks start before old ones stop, and at least half the service
  # keeps serving throughout. A deployment that never becomes healthy is rolled back.
  deployment_maximum_percent         = 200
  deployment_minimum_healthy_percent = 50

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # With a strategy the tasks run on the cluster's capacity providers (FARGATE_SPOT in dev)
  # instead of the FARGATE launch type.
  dynamic "capacity_provider_strategy" {
    for_each = var.capacity_provider_strategy

    content {
      capacity_provider = capacity_provider_strategy.value.capacity_provider
      weight            = capacity_provider_strategy.value.weight
      base              = capacity_provider_strategy.value.base
    }
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [var.task_security_group_id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = var.name
    container_port   = var.container_port
  }

  propagate_tags = "SERVICE"

  lifecycle {
    # Auto scaling changes the count; a plan must not fight it.
    ignore_changes = [desired_count]
  }

  tags = var.tags

  depends_on = [aws_lb_listener.https]
}

moved {
  from = aws_ecs_service.this
  to   = aws_ecs_service.this[0]
}

# Blue-green: CodeDeploy owns the task definition and the target group in service between
# deployments, so Terraform leaves both alone (a new image is deployed through CodeDeploy with
# the task definition this module registers).
resource "aws_ecs_service" "blue_green" {
  count = local.blue_green ? 1 : 0

  name                              = var.name
  cluster                           = var.cluster_arn
  task_definition                   = aws_ecs_task_definition.this.arn
  launch_type                       = length(var.capacity_provider_strategy) == 0 ? "FARGATE" : null
  desired_count                     = var.desired_count
  health_check_grace_period_seconds = var.health_check_grace_period_seconds

  deployment_controller {
    type = "CODE_DEPLOY"
  }

  # With a strategy the tasks run on the cluster's capacity providers (FARGATE_SPOT in dev)
  # instead of the FARGATE launch type.
  dynamic "capacity_provider_strategy" {
    for_each = var.capacity_provider_strategy

    content {
      capacity_provider = capacity_provider_strategy.value.capacity_provider
      weight            = capacity_provider_strategy.value.weight
      base              = capacity_provider_strategy.value.base
    }
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [var.task_security_group_id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = var.name
    container_port   = var.container_port
  }

  propagate_tags = "SERVICE"

  lifecycle {
    # Auto scaling changes the count, CodeDeploy the task definition and the target group.
    ignore_changes = [desired_count, task_definition, load_balancer]
  }

  tags = var.tags

  depends_on = [aws_lb_listener.https]
}

# --- Blue-green deployments (CodeDeploy) ------------------------------------------------------
# With deployment_controller = "CODE_DEPLOY", a deployment starts the new task set behind the
# green target group, shifts the HTTPS listener to it in one step (or as
# blue_green.deployment_config_name says), rolls back on failure, and stops the old task set
# after blue_green.termination_wait_minutes.

resource "aws_lb_target_group" "green" {
  count = local.blue_green ? 1 : 0

  name                 = "${substr(var.name, 0, 26)}-green"
  vpc_id               = var.vpc_id
  target_type          = "ip"
  protocol             = "HTTP"
  port                 = var.container_port
  deregistration_delay = var.deregistration_delay_seconds

  health_check {
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags
}

data "aws_iam_policy_document" "codedeploy_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "codedeploy" {
  count = local.blue_green ? 1 : 0

  name                 = "${var.name}-codedeploy"
  assume_role_policy   = data.aws_iam_policy_document.codedeploy_assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "codedeploy" {
  count = local.blue_green ? 1 : 0

  role       = aws_iam_role.codedeploy[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSCodeDeployRoleForECS"
}

resource "aws_codedeploy_app" "this" {
  count = local.blue_green ? 1 : 0

  name             = var.name
  compute_platform = "ECS"

  tags = var.tags
}

resource "aws_codedeploy_deployment_group" "this" {
  count = local.blue_green ? 1 : 0

  app_name               = aws_codedeploy_app.this[0].name
  deployment_group_name  = var.name
  service_role_arn       = aws_iam_role.codedeploy[0].arn
  deployment_config_name = var.blue_green.deployment_config_name

  deployment_style {
    deployment_type   = "BLUE_GREEN"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  blue_green_deployment_config {
    deployment_ready_option {
      action_on_timeout = "CONTINUE_DEPLOYMENT"
    }

    terminate_blue_instances_on_deployment_success {
      action                           = "TERMINATE"
      termination_wait_time_in_minutes = var.blue_green.termination_wait_minutes
    }
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  ecs_service {
    cluster_name = var.cluster_name
    service_name = aws_ecs_service.blue_green[0].name
  }

  load_balancer_info {
    target_group_pair_info {
      prod_traffic_route {
        listener_arns = [aws_lb_listener.https.arn]
      }

      target_group {
        name = aws_lb_target_group.this.name
      }

      target_group {
        name = aws_lb_target_group.green[0].name
      }
    }
  }

  tags = var.tags
}

# --- Auto scaling ------------------------------------------------------------------------------

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${var.cluster_name}/${local.service_name}"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity

  lifecycle {
    precondition {
      condition     = var.min_capacity <= var.desired_count && var.desired_count <= var.max_capacity
      error_message = "The desired_count must lie between min_capacity and max_capacity."
    }
  }

  tags = var.tags
}

resource "aws_appautoscaling_policy" "this" {
  for_each = {
    cpu    = { metric = "ECSServiceAverageCPUUtilization", target = var.cpu_target_percent }
    memory = { metric = "ECSServiceAverageMemoryUtilization", target = var.memory_target_percent }
  }

  name               = "${var.name}-${each.key}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target
    scale_out_cooldown = var.scale_out_cooldown_seconds
    scale_in_cooldown  = var.scale_in_cooldown_seconds

    predefined_metric_specification {
      predefined_metric_type = each.value.metric
    }
  }
}

# Scheduled scaling: at each schedule the task count's bounds change (dev scales to zero off
# hours and back in the morning); target tracking works within the bounds in between.
resource "aws_appautoscaling_scheduled_action" "this" {
  for_each = var.scheduled_scaling

  name               = "${var.name}-${each.key}"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id
  schedule           = each.value.schedule
  timezone           = var.scheduled_scaling_timezone

  scalable_target_action {
    min_capacity = each.value.min_capacity
    max_capacity = each.value.max_capacity
  }
}
