locals {
  # The health check probes this record's own target (its load balancer's name, or the per-region
  # name given), never the record's name: once a failover record fails over, its name resolves to
  # the other region, which a check of the name would find healthy and fail back to, flapping.
  health_check_fqdn = var.health_check == null ? null : coalesce(var.health_check.fqdn, var.alias_target.dns_name)
}

resource "aws_route53_health_check" "this" {
  count = var.health_check == null ? 0 : 1

  type              = "HTTPS"
  fqdn              = local.health_check_fqdn
  port              = var.health_check.port
  resource_path     = var.health_check.path
  failure_threshold = var.health_check.failure_threshold
  request_interval  = var.health_check.request_interval
  enable_sni        = true

  lifecycle {
    precondition {
      condition     = local.health_check_fqdn != var.name
      error_message = "The health check must probe the record's own target (health_check.fqdn or the alias target), not the record's name, which fails over with it."
    }
  }

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
