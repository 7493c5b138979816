variable "name" {
  description = "Name of the ECS cluster, for example \"sarc-ng-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,255}$", var.name))
    error_message = "The name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "container_insights" {
  description = "Collect CloudWatch Container Insights metrics for the cluster's services and tasks."
  type        = bool
  default     = true
}

variable "default_capacity_provider" {
  description = "Capacity provider for tasks started without a launch type (one-off tasks): FARGATE or FARGATE_SPOT."
  type        = string
  default     = "FARGATE"

  validation {
    condition     = contains(["FARGATE", "FARGATE_SPOT"], var.default_capacity_provider)
    error_message = "The default_capacity_provider must be FARGATE or FARGATE_SPOT."
  }
}

variable "tags" {
  description = "Extra tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
