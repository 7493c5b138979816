variable "name" {
  description = "Name of the function and its queues, for example \"sarcng-notifications-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,56}$", var.name))
    error_message = "The name must be 1-56 letters, digits, hyphens or underscores."
  }
}

variable "description" {
  description = "What the function does with each message."
  type        = string
}

variable "timeout_seconds" {
  description = "Longest one batch may take; the queue's visibility timeout is six times this."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "The timeout_seconds must be between 1 and 900."
  }
}

variable "batch_size" {
  description = "Most messages handed to one invocation."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "The batch_size must be between 1 and 10000."
  }
}

variable "batching_window_seconds" {
  description = "Longest to wait to fill a batch (batch sizes above 10 need a window above 0)."
  type        = number
  default     = 0

  validation {
    condition     = var.batching_window_seconds >= 0 && var.batching_window_seconds <= 300
    error_message = "The batching_window_seconds must be between 0 and 300."
  }
}

variable "maximum_concurrency" {
  description = "Most concurrent invocations the queue may drive, protecting what the function calls (the database)."
  type        = number
  default     = 10

  validation {
    condition     = var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000
    error_message = "The maximum_concurrency must be between 2 and 1000."
  }
}

variable "max_receive_count" {
  description = "Deliveries of a message before it moves to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "The max_receive_count must be between 1 and 1000."
  }
}

variable "message_retention_seconds" {
  description = "How long an unprocessed message stays in the queue."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "The message_retention_seconds must be between 60 and 1209600 (14 days)."
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
