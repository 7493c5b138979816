output "zone_id" {
  description = "ID of the hosted zone."
  value       = local.zone_id
}

output "domain_name" {
  description = "Domain of the hosted zone."
  value       = var.domain_name
}

output "name_servers" {
  description = "Name servers to delegate the domain to, when this module created the zone."
  value       = var.create_zone ? aws_route53_zone.this[0].name_servers : []
}

output "certificate_arn" {
  description = "ARN of the validated ACM certificate for the domain and its alternative names, in this region."
  value       = aws_acm_certificate_validation.this.certificate_arn
}

output "delegated_names" {
  description = "Subdomains this zone delegates with NS records."
  value       = [for record in aws_route53_record.delegation : record.name]
}
