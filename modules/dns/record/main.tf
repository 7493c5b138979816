resource "aws_route53_health_check" "this" {
  count = var.health_check == null ? 0 : 1

  type              = "HTTPS"
  fqdn              = var.name
  port              = var.health_check.port
  resource_path     = var.health_check.path
  failure_threshold = var.health_check.failure_threshold
  request_interval  = var.health_check.request_interval
  enable_sni        = true

  tags = merge(var.tags, { Name = var.set_identifier == null ? var.name : "${var.name}-${var.set_identifier}" })
}

resource "aws_route53_record" "this" {
  zone_id         = var.zone_id
  name            = var.name
  type            = "A"
  set_identifier  = var.routing_policy == "simple" ? null : var.set_identifier
  health_check_id = one(aws_route53_health_check.this[*].id)

  alias {
    name                   = var.alias_target.dns_name
    zone_id                = var.alias_target.zone_id
    evaluate_target_health = true
  }

  dynamic "failover_routing_policy" {
    for_each = var.routing_policy == "failover" ? [var.failover_role] : []

    content {
      type = failover_routing_policy.value
    }
  }

  dynamic "geolocation_routing_policy" {
    for_each = var.routing_policy == "geolocation" ? [var.geolocation] : []

    content {
      continent   = geolocation_routing_policy.value.continent
      country     = geolocation_routing_policy.value.country
      subdivision = geolocation_routing_policy.value.subdivision
    }
  }

  lifecycle {
    precondition {
      condition     = var.routing_policy == "simple" || var.set_identifier != null
      error_message = "Failover and geolocation routing need a set_identifier."
    }

    precondition {
      condition     = var.routing_policy != "geolocation" || var.geolocation != null
      error_message = "Geolocation routing needs the geolocation input."
    }

    precondition {
      condition     = !(var.routing_policy == "failover" && var.failover_role == "PRIMARY" && var.health_check == null)
      error_message = "The primary record of a failover pair needs a health_check, or it never fails over."
    }
  }
}
