variable "name" {
  description = "Name of the service and prefix of its resources; must start with a prefix the slipway-roles apply role manages."
  type        = string
  default     = "sarc-ng-slipway"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,22}[a-z0-9]$", var.name))
    error_message = "The name must be 2-24 lowercase letters, digits or hyphens (load balancer names are limited to 32 characters)."
  }
}

variable "container_image" {
  description = "Slipway's container image, pinned by tag or digest."
  type        = string
}

variable "cpu" {
  description = "Fargate task CPU units; plans run terraform inside the task."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Fargate task memory in MiB."
  type        = number
  default     = 2048
}

variable "environment" {
  description = "Slipway's process settings as environment variables (no secrets); SLIPWAY_ARTIFACT_STORE is set by this module."
  type        = map(string)
  default     = {}
}

variable "target_role_arns" {
  description = "Plan and apply roles Slipway may assume, in every account it manages (slipway.toml plan_role and apply_role)."
  type        = list(string)

  validation {
    condition     = length(var.target_role_arns) > 0 && alltrue([for arn in var.target_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "Give at least one IAM role ARN."
  }
}

variable "artifact_retention_days" {
  description = "Days plan files, plan JSON and logs are kept in the artifact bucket."
  type        = number
  default     = 90

  validation {
    condition     = var.artifact_retention_days >= 1
    error_message = "The artifact_retention_days must be at least 1."
  }
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster the service runs in."
  type        = string
}

variable "cluster_name" {
  description = "Name of the ECS cluster the service runs in."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets of the load balancer GitHub delivers webhooks to."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Private subnets the task runs in (it reaches GitHub and AWS through the NAT gateways)."
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "Security group of the load balancer, from the network module."
  type        = string
}

variable "task_security_group_id" {
  description = "Security group of the task, from the network module."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for the webhook endpoint's name."
  type        = string
}

variable "dns_record" {
  description = "Zone id and fully qualified name of the webhook endpoint, for example slipway.sarc-ng.example.com."
  type = object({
    zone_id = string
    name    = string
  })
}

variable "log_retention_days" {
  description = "Days to keep Slipway's logs."
  type        = number
  default     = 90
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary every IAM role of this module carries (the account's, which the live tree passes to every unit); Slipway's apply role can create no role without it."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.permissions_boundary_arn))
    error_message = "The permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "tags" {
  description = "Extra tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
