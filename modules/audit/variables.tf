variable "name" {
  description = "Name of the trail, and prefix of its bucket and key, for example \"sarc-ng-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "The name must be 3-32 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "retention_days" {
  description = "Days the trail's log files are kept in the bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.retention_days >= 90
    error_message = "Keep audit logs for at least 90 days."
  }
}

variable "tags" {
  description = "Extra tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
