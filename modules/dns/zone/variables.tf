variable "domain_name" {
  description = "Domain of the hosted zone, for example \"dev.sarc-ng.example.com\"."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "The domain_name must be a lowercase fully qualified domain name without a trailing dot."
  }
}

variable "create_zone" {
  description = "Create the public hosted zone (true), or use the existing zone_id, for example from the primary region (false)."
  type        = bool
  default     = true
}

variable "zone_id" {
  description = "ID of an existing hosted zone for domain_name; required when create_zone is false."
  type        = string
  default     = null
}

variable "certificate_subject_alternative_names" {
  description = "Other names the ACM certificate covers besides domain_name; by default the domain's direct subdomains."
  type        = list(string)
  default     = null
}

variable "tags" {
  description = "Extra tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
