output "fqdn" {
  description = "Fully qualified name of the record."
  value       = aws_route53_record.this.fqdn
}

output "health_check_id" {
  description = "ID of the Route53 health check, or null when there is none."
  value       = one(aws_route53_health_check.this[*].id)
}
