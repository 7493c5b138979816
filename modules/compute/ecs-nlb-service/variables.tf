variable "name" {
  description = "Name of the service, its task family, load balancer and log group."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name))
    error_message = "The name must be 2-32 lowercase letters, digits or hyphens (load balancer names are limited to 32 characters)."
  }
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster the service runs in."
  type        = string
}

variable "cluster_name" {
  description = "Name of the ECS cluster the service runs in (auto scaling addresses services by cluster name)."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the internal load balancer and of the tasks."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give subnets in at least two availability zones."
  }
}

variable "allowed_cidr_blocks" {
  description = "Networks allowed to reach the service's port (clients inside the VPC or peered networks). Never the whole internet."
  type        = list(string)

  validation {
    condition     = length(var.allowed_cidr_blocks) > 0 && alltrue([for cidr in var.allowed_cidr_blocks : can(cidrnetmask(cidr)) && cidr != "0.0.0.0/0"])
    error_message = "Give at least one IPv4 CIDR block, and not 0.0.0.0/0: this module builds internal services."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for a TLS listener, or null for plain TCP."
  type        = string
  default     = null
}

variable "listener_port" {
  description = "Port the load balancer listens on."
  type        = number

  validation {
    condition     = var.listener_port >= 1 && var.listener_port <= 65535
    error_message = "The listener_port must be between 1 and 65535."
  }
}

variable "container_image" {
  description = "Container image to run, pinned by tag or digest."
  type        = string

  validation {
    condition     = length(trimspace(var.container_image)) > 0 && !endswith(var.container_image, ":latest")
    error_message = "The container_image must be set and pinned to a version, not :latest."
  }
}

variable "container_port" {
  description = "TCP port the container listens on."
  type        = number

  validation {
    condition     = var.container_port >= 1 && var.container_port <= 65535
    error_message = "The container_port must be between 1 and 65535."
  }
}

variable "cpu" {
  description = "Fargate task CPU units (1024 = one vCPU)."
  type        = number

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "The cpu must be a Fargate size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB; between 2 and 8 times cpu."
  type        = number
}

variable "environment" {
  description = "Plain environment variables of the container (no secrets)."
  type        = map(string)
  default     = {}
}

variable "desired_count" {
  description = "Number of tasks at creation; auto scaling owns the count afterwards."
  type        = number
}

variable "min_capacity" {
  description = "Fewest tasks auto scaling may run."
  type        = number
}

variable "max_capacity" {
  description = "Most tasks auto scaling may run."
  type        = number
}

variable "cpu_target_percent" {
  description = "Average CPU utilisation auto scaling keeps the service at."
  type        = number
  default     = 70

  validation {
    condition     = var.cpu_target_percent > 0 && var.cpu_target_percent <= 100
    error_message = "The cpu_target_percent must be between 1 and 100."
  }
}

variable "log_retention_days" {
  description = "Days to keep the container logs."
  type        = number
  default     = 30
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
