variable "name" {
  description = "Name of the API, its function and log groups, for example \"sarcng-api-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,56}$", var.name))
    error_message = "The name must be 1-56 letters, digits, hyphens or underscores."
  }
}

variable "description" {
  description = "What the API serves."
  type        = string
}

variable "image_uri" {
  description = "ECR image of the function, pinned by tag or digest."
  type        = string
}

variable "image_command" {
  description = "Command overriding the image's CMD, or null to keep it."
  type        = list(string)
  default     = null
}

variable "memory_mb" {
  description = "Memory of the function in MB."
  type        = number
  default     = 512
}

variable "timeout_seconds" {
  description = "Longest an invocation may run; API Gateway itself gives up after 30 seconds."
  type        = number
  default     = 29

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 30
    error_message = "The timeout_seconds must be between 1 and 30 (the HTTP API integration limit)."
  }
}

variable "environment" {
  description = "Environment variables of the function (no secrets)."
  type        = map(string)
  default     = {}
}

variable "secret_arns" {
  description = "Secrets Manager secrets the function may read at run time."
  type        = list(string)
  default     = []
}

variable "kms_key_arns" {
  description = "Customer-managed KMS keys the function may decrypt with."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Private subnets to run the function in; empty for no VPC."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the function in the VPC."
  type        = list(string)
  default     = []
}

variable "stable_version" {
  description = "Blue-green: the function version the live alias serves, or null to serve the latest published version."
  type        = string
  default     = null

  validation {
    condition     = var.stable_version == null || can(regex("^[0-9]+$", var.stable_version))
    error_message = "The stable_version must be a published version number such as \"12\"."
  }
}

variable "canary_weight" {
  description = "Blue-green: share of requests (0 to 1) the latest published version gets while stable_version serves the rest."
  type        = number
  default     = 0

  validation {
    condition     = var.canary_weight >= 0 && var.canary_weight < 1
    error_message = "The canary_weight must be at least 0 and below 1."
  }
}

variable "throttling_burst_limit" {
  description = "Requests the API accepts in a burst before throttling."
  type        = number
  default     = 500
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second the API accepts before throttling."
  type        = number
  default     = 1000
}

variable "cors_allowed_origins" {
  description = "Origins browsers may call the API from; empty for no CORS."
  type        = list(string)
  default     = []
}

variable "log_group_name" {
  description = "Name of the function's log group; null for \"/aws/lambda/<name>\"."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days to keep the function's and the API's access logs."
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
