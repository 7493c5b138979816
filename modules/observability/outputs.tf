output "alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm notifies; subscribe further endpoints (chat, paging) to it."
  value       = aws_sns_topic.alarms.arn
}

output "custom_metric_namespace" {
  description = "CloudWatch namespace of the custom application-error metrics."
  value       = local.namespace
}

output "alarm_names" {
  description = "Names of every alarm this module created."
  value = concat(
    [for alarm in aws_cloudwatch_metric_alarm.ecs_cpu : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.database : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.alb_5xx : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.errors : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.application : alarm.alarm_name],
  )
}

output "log_group_names" {
  description = "Names of the shared log groups."
  value       = [for group in aws_cloudwatch_log_group.shared : group.name]
}
