variable "zone_id" {
  description = "ID of the hosted zone the record goes in."
  type        = string
}

variable "name" {
  description = "Fully qualified name of the record, for example \"api.sarc-ng.example.com\"."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9*]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.name))
    error_message = "The name must be a lowercase fully qualified domain name without a trailing dot."
  }
}

variable "alias_target" {
  description = "Load balancer (or other alias target) the record points at: its DNS name and hosted zone id."
  type = object({
    dns_name = string
    zone_id  = string
  })
}

variable "routing_policy" {
  description = "How Route53 answers when several records share the name: simple, failover or geolocation."
  type        = string
  default     = "simple"

  validation {
    condition     = contains(["simple", "failover", "geolocation"], var.routing_policy)
    error_message = "The routing_policy must be simple, failover or geolocation."
  }
}

variable "set_identifier" {
  description = "Distinguishes this record among those sharing its name; required for failover and geolocation routing."
  type        = string
  default     = null
}

variable "failover_role" {
  description = "Failover routing only: PRIMARY (answers while healthy) or SECONDARY (answers when the primary is unhealthy)."
  type        = string
  default     = "PRIMARY"

  validation {
    condition     = contains(["PRIMARY", "SECONDARY"], var.failover_role)
    error_message = "The failover_role must be PRIMARY or SECONDARY."
  }
}

variable "geolocation" {
  description = "Geolocation routing only: the continent code, country code (and US subdivision) this record answers for; country \"*\" is the default location."
  type = object({
    continent   = optional(string)
    country     = optional(string)
    subdivision = optional(string)
  })
  default = null
}

variable "health_check" {
  description = "HTTPS health check of the target, or null for none. Failover routing needs one on the primary. It probes fqdn, by default the alias target's own name (the load balancer), never the record's name."
  type = object({
    fqdn              = optional(string)
    path              = optional(string, "/health")
    port              = optional(number, 443)
    failure_threshold = optional(number, 3)
    request_interval  = optional(number, 30)
  })
  default = null

  validation {
    condition     = var.health_check == null || contains([10, 30], try(var.health_check.request_interval, 30))
    error_message = "The health_check request_interval must be 10 or 30 seconds."
  }
}

variable "tags" {
  description = "Extra tags for the health check, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
