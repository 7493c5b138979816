output "queue_url" {
  description = "URL of the queue producers send messages to."
  value       = aws_sqs_queue.this.id
}

output "queue_arn" {
  description = "ARN of the queue, for producers' sqs:SendMessage permission."
  value       = aws_sqs_queue.this.arn
}

output "dead_letter_queue_url" {
  description = "URL of the queue holding messages that failed max_receive_count times."
  value       = aws_sqs_queue.dead_letter.id
}

output "function_name" {
  description = "Name of the consuming function."
  value       = module.function.function_name
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = module.function.log_group_name
}
