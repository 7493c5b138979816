output "service_name" {
  description = "Name of the ECS service."
  value       = local.service_name
}

output "task_definition_arn" {
  description = "ARN of the task definition revision the service runs."
  value       = aws_ecs_task_definition.this.arn
}

output "task_role_arn" {
  description = "ARN of the role the application runs as."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "ARN of the role ECS uses to pull the image, write logs and read secrets."
  value       = aws_iam_role.execution.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (the LoadBalancer dimension of its CloudWatch metrics)."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name of the load balancer, for an alias record."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Route53 hosted zone id of the load balancer, for an alias record."
  value       = aws_lb.this.zone_id
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group (the TargetGroup dimension of its CloudWatch metrics)."
  value       = aws_lb_target_group.this.arn_suffix
}

output "log_group_name" {
  description = "CloudWatch log group of the containers."
  value       = aws_cloudwatch_log_group.this.name
}

output "url" {
  description = "HTTPS URL of the service: its DNS record when one was created, else the load balancer's name."
  value       = "https://${var.dns_record == null ? aws_lb.this.dns_name : var.dns_record.name}"
}

output "codedeploy_deployment_group" {
  description = "CodeDeploy application and deployment group that deploy the service in blue-green mode, or null."
  value       = local.blue_green ? { app_name = aws_codedeploy_app.this[0].name, deployment_group_name = aws_codedeploy_deployment_group.this[0].deployment_group_name } : null
}
