output "url" {
  description = "Base URL of Slipway; GitHub delivers webhooks to <url>/webhooks/github."
  value       = module.service.url
}

output "task_role_arn" {
  description = "ARN of Slipway's task role: the principal every account's slipway-roles trust."
  value       = module.service.task_role_arn
}

output "artifact_bucket" {
  description = "S3 bucket holding plan artifacts."
  value       = aws_s3_bucket.artifacts.bucket
}

output "github_secret_arn" {
  description = "Secret to store the GitHub App credentials in (JSON: app_id, private_key, webhook_secret)."
  value       = aws_secretsmanager_secret.github.arn
}

output "log_group_name" {
  description = "CloudWatch log group of Slipway."
  value       = module.service.log_group_name
}
