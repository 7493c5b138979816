output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "nlb_dns_name" {
  description = "DNS name of the internal network load balancer."
  value       = aws_lb.this.dns_name
}

output "nlb_zone_id" {
  description = "Route53 hosted zone id of the load balancer, for an alias record."
  value       = aws_lb.this.zone_id
}

output "task_security_group_id" {
  description = "Security group of the tasks."
  value       = aws_security_group.tasks.id
}

output "log_group_name" {
  description = "CloudWatch log group of the containers."
  value       = aws_cloudwatch_log_group.this.name
}
