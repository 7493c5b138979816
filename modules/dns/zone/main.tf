locals {
  zone_id = var.create_zone ? aws_route53_zone.this[0].zone_id : coalesce(var.zone_id, one(data.aws_route53_zone.existing[*].zone_id))

  subject_alternative_names = (
    var.certificate_subject_alternative_names == null
    ? ["*.${var.domain_name}"]
    : var.certificate_subject_alternative_names
  )
}

# A zone created elsewhere (by the primary region's unit) and not given by id is found by name, so
# a second region needs no output of the first (and can be applied while the first is down).
data "aws_route53_zone" "existing" {
  count = !var.create_zone && var.zone_id == null ? 1 : 0

  name         = var.domain_name
  private_zone = false
}

resource "aws_route53_zone" "this" {
  count = var.create_zone ? 1 : 0

  name    = var.domain_name
  comment = "Managed by Terraform"

  tags = var.tags
}

# ACM certificates are regional: each region's load balancers need their own, validated through
# the same zone.
resource "aws_acm_certificate" "this" {
  domain_name               = var.domain_name
  subject_alternative_names = local.subject_alternative_names
  validation_method         = "DNS"

  lifecycle {
    create_before_destroy = true
  }

  tags = var.tags
}

# Keyed by domain name, which is known at plan time (the record names are not). A name and its
# wildcard share one validation record, and a domain's record is the same in every region of an
# account, hence allow_overwrite.
resource "aws_route53_record" "validation" {
  for_each = {
    for option in aws_acm_certificate.this.domain_validation_options : option.domain_name => {
      name   = option.resource_record_name
      type   = option.resource_record_type
      record = option.resource_record_value
    }
  }

  zone_id         = local.zone_id
  name            = each.value.name
  type            = each.value.type
  records         = [each.value.record]
  ttl             = 300
  allow_overwrite = true
}

# Subdomains whose zones live elsewhere (another account's environment): their NS records in this
# zone delegate them. Without them the subzone answers nobody, and its certificate's DNS
# validation never completes.
resource "aws_route53_record" "delegation" {
  for_each = var.delegations

  zone_id = local.zone_id
  name    = each.key
  type    = "NS"
  ttl     = var.delegation_ttl_seconds
  records = each.value

  lifecycle {
    precondition {
      condition     = endswith(each.key, ".${var.domain_name}")
      error_message = "A delegated name must be a subdomain of the zone's domain."
    }
  }
}

resource "aws_acm_certificate_validation" "this" {
  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = [for record in aws_route53_record.validation : record.fqdn]
}
