variable "name" {
  description = "Name of the function and its rule, for example \"sarcng-reminders-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,56}$", var.name))
    error_message = "The name must be 1-56 letters, digits, hyphens or underscores."
  }
}

variable "description" {
  description = "What the function does when the rule fires."
  type        = string
}

variable "timeout_seconds" {
  description = "Longest an invocation may run."
  type        = number
  default     = 60
}

variable "schedule_expression" {
  description = "When to run, as \"rate(...)\" or \"cron(...)\"; set this or event_pattern."
  type        = string
  default     = null

  validation {
    condition     = var.schedule_expression == null || can(regex("^(rate|cron)\\(.+\\)$", var.schedule_expression))
    error_message = "The schedule_expression must look like rate(5 minutes) or cron(0 3 * * ? *)."
  }
}

variable "event_pattern" {
  description = "EventBridge event pattern (JSON) of the events to react to; set this or schedule_expression."
  type        = string
  default     = null

  validation {
    condition     = var.event_pattern == null || can(jsondecode(var.event_pattern))
    error_message = "The event_pattern must be a JSON document."
  }
}

variable "event_bus_name" {
  description = "Event bus the rule listens on (schedules always use the default bus)."
  type        = string
  default     = "default"
}

variable "maximum_retry_attempts" {
  description = "Times EventBridge retries a failed delivery before sending the event to the dead-letter queue."
  type        = number
  default     = 3

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 185
    error_message = "The maximum_retry_attempts must be between 0 and 185."
  }
}

variable "maximum_event_age_seconds" {
  description = "Oldest an event may be and still be delivered."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_event_age_seconds >= 60 && var.maximum_event_age_seconds <= 86400
    error_message = "The maximum_event_age_seconds must be between 60 and 86400."
  }
}

variable "image_uri" {
  description = "ECR image of the function, pinned by tag or digest."
  type        = string
}

variable "image_command" {
  description = "Command overriding the image's CMD (for example the handler), or null to keep it."
  type        = list(string)
  default     = null
}

variable "memory_mb" {
  description = "Memory of the function in MB."
  type        = number
  default     = 512
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

variable "log_group_name" {
  description = "Name of the function's log group; null for \"/aws/lambda/<name>\"."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days to keep the function's logs."
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
