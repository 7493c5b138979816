output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones the subnets are spread over, in subnet order."
  value       = var.availability_zones
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (load balancers, NAT gateways), one per availability zone."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (ECS tasks, Lambda functions), one per availability zone."
  value       = aws_subnet.private[*].id
}

output "database_subnet_ids" {
  description = "IDs of the database subnets (no route to the internet), one per availability zone."
  value       = aws_subnet.database[*].id
}

output "nat_gateway_public_ips" {
  description = "Public IPs of the NAT gateways: the addresses outbound traffic comes from."
  value       = aws_eip.nat[*].public_ip
}

output "alb_security_group_id" {
  description = "Security group for application load balancers (80 and 443 from anywhere)."
  value       = aws_security_group.alb.id
}

output "ecs_tasks_security_group_id" {
  description = "Security group for ECS tasks (the application port from the ALB only)."
  value       = aws_security_group.ecs_tasks.id
}

output "lambda_security_group_id" {
  description = "Security group for Lambda functions in the VPC (no inbound traffic)."
  value       = aws_security_group.lambda.id
}

output "database_security_group_id" {
  description = "Security group for databases (3306 from the ECS tasks and Lambda security groups only)."
  value       = aws_security_group.database.id
}

output "flow_logs_log_group_name" {
  description = "CloudWatch log group receiving the VPC flow logs, or null when flow logs are off."
  value       = one(aws_cloudwatch_log_group.flow_logs[*].name)
}
