output "api_endpoint" {
  description = "Base URL of the HTTP API."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "api_id" {
  description = "ID of the HTTP API (the ApiId dimension of its CloudWatch metrics)."
  value       = aws_apigatewayv2_api.this.id
}

output "function_name" {
  description = "Name of the function behind the API."
  value       = module.function.function_name
}

output "latest_version" {
  description = "Version published by the latest change: the canary, or the next stable_version."
  value       = module.function.version
}

output "live_alias_arn" {
  description = "ARN of the alias the API invokes."
  value       = aws_lambda_alias.live.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = module.function.log_group_name
}
