data "aws_caller_identity" "current" {}

locals {
  namespace     = "SARC-NG/${var.name}"
  alarm_actions = [aws_sns_topic.alarms.arn]
}

# --- Alarm topic -------------------------------------------------------------------------------
# CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, hence a
# customer-managed key that CloudWatch may use.

data "aws_iam_policy_document" "alarms_key" {
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchPublishes"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "alarms" {
  description         = "Encrypts the ${var.name} alarm topic"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.alarms_key.json

  tags = var.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn

  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_email_addresses)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# --- Log groups and custom metrics -------------------------------------------------------------

resource "aws_cloudwatch_log_group" "shared" {
  for_each = var.log_groups

  name              = each.key
  retention_in_days = each.value

  tags = var.tags
}

resource "aws_cloudwatch_log_metric_filter" "errors" {
  for_each = var.error_log_groups

  name           = "${each.key}-errors"
  log_group_name = each.value
  pattern        = var.error_log_pattern

  metric_transformation {
    namespace     = local.namespace
    name          = "${each.key}-errors"
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each = var.error_log_groups

  alarm_name          = "${var.name}-${each.key}-errors"
  alarm_description   = "More than ${var.error_threshold} application errors in 5 minutes in ${each.value}."
  namespace           = local.namespace
  metric_name         = aws_cloudwatch_log_metric_filter.errors[each.key].metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# --- ECS ---------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "ecs_cpu" {
  for_each = toset(var.ecs_service_names)

  alarm_name          = "${var.name}-${each.key}-cpu-high"
  alarm_description   = "Average CPU of ${each.key} above ${var.cpu_threshold_percent}% for 15 minutes."
  namespace           = "AWS/ECS"
  metric_name         = "CPUUtilization"
  dimensions          = { ClusterName = var.ecs_cluster_name, ServiceName = each.key }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.cpu_threshold_percent
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# --- Database ----------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "database" {
  for_each = var.database_dimensions == null ? {} : {
    cpu-high         = { metric = "CPUUtilization", threshold = var.cpu_threshold_percent, what = "CPU above ${var.cpu_threshold_percent}%" }
    connections-high = { metric = "DatabaseConnections", threshold = var.database_connections_threshold, what = "more than ${var.database_connections_threshold} connections" }
  }

  alarm_name          = "${var.name}-database-${each.key}"
  alarm_description   = "Database ${each.value.what} for 15 minutes."
  namespace           = "AWS/RDS"
  metric_name         = each.value.metric
  dimensions          = var.database_dimensions
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# --- Load balancers ----------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "alb_5xx" {
  for_each = {
    for pair in setproduct(keys(var.load_balancers), ["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"]) :
    "${pair[0]}-${pair[1] == "HTTPCode_ELB_5XX_Count" ? "elb" : "target"}-5xx" => { alb = pair[0], metric = pair[1] }
  }

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = "More than ${var.http_5xx_threshold} ${each.value.metric} answers in 5 minutes on ${each.value.alb}."
  namespace           = "AWS/ApplicationELB"
  metric_name         = each.value.metric
  dimensions          = { LoadBalancer = var.load_balancers[each.value.alb] }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.http_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# --- Application metrics -----------------------------------------------------------------------
# The four metrics the SARC-NG API publishes (CloudWatch embedded metric format, in
# application_metrics_namespace with application_metric_dimensions), each with its alarm.

resource "aws_cloudwatch_metric_alarm" "application" {
  for_each = var.application_metric_alarms

  alarm_name          = "${var.name}-${replace(each.key, "_", "-")}"
  alarm_description   = "${each.value.description}: ${each.value.comparison == "LessThanThreshold" ? "below" : "above"} ${each.value.threshold} for ${each.value.evaluation_periods * each.value.period / 60} minutes."
  namespace           = var.application_metrics_namespace
  metric_name         = each.key
  dimensions          = var.application_metric_dimensions
  statistic           = each.value.extended_statistic == null ? each.value.statistic : null
  extended_statistic  = each.value.extended_statistic
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}
