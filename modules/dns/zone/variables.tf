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
  description = "ID of an existing hosted zone for domain_name, when create_zone is false; null to look the public zone up by domain_name."
  type        = string
  default     = null
}

variable "certificate_subject_alternative_names" {
  description = "Other names the ACM certificate covers besides domain_name; by default the domain's direct subdomains."
  type        = list(string)
  default     = null
}

variable "delegations" {
  description = "Subdomains delegated to zones elsewhere (the dev and staging accounts' zones): fully qualified name => that zone's name servers. Each gets an NS record in this zone."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for servers in values(var.delegations) : length(servers) > 0])
    error_message = "Every delegation needs the subzone's name servers."
  }
}

variable "delegation_ttl_seconds" {
  description = "TTL of the delegation NS records."
  type        = number
  default     = 3600
}

variable "tags" {
  description = "Extra tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
