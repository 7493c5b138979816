output "function_name" {
  description = "Name of the function."
  value       = module.function.function_name
}

output "rule_arn" {
  description = "ARN of the EventBridge rule."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "dead_letter_queue_url" {
  description = "URL of the queue holding events that could not be delivered."
  value       = aws_sqs_queue.dead_letter.id
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = module.function.log_group_name
}
