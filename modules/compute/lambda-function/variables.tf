variable "name" {
  description = "Name of the function, its role and log group, for example \"sarcng-api-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,56}$", var.name))
    error_message = "The name must be 1-56 letters, digits, hyphens or underscores (room is left for role name suffixes)."
  }
}

variable "description" {
  description = "What the function does."
  type        = string
}

variable "image_uri" {
  description = "ECR image of the function, pinned by tag or digest."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/.+(:[^:]+|@sha256:[0-9a-f]{64})$", var.image_uri)) && !endswith(var.image_uri, ":latest")
    error_message = "The image_uri must be an ECR image pinned by a tag other than latest or by a digest."
  }
}

variable "image_command" {
  description = "Command overriding the image's CMD (for example the handler), or null to keep it."
  type        = list(string)
  default     = null
}

variable "architecture" {
  description = "Instruction set the image is built for: x86_64 or arm64."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "The architecture must be x86_64 or arm64."
  }
}

variable "memory_mb" {
  description = "Memory of the function in MB; CPU grows with it."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "The memory_mb must be between 128 and 10240."
  }
}

variable "timeout_seconds" {
  description = "Longest an invocation may run."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "The timeout_seconds must be between 1 and 900."
  }
}

variable "environment" {
  description = "Environment variables of the function. Never put secrets here: pass secret ARNs and read them at run time."
  type        = map(string)
  default     = {}
}

variable "secret_arns" {
  description = "Secrets Manager secrets the function may read at run time."
  type        = list(string)
  default     = []
}

variable "kms_key_arns" {
  description = "Customer-managed KMS keys the function may decrypt with (the keys of its secrets)."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Private subnets to run the function in, to reach the database; empty for no VPC."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the function in the VPC (the network module's lambda group)."
  type        = list(string)
  default     = []
}

variable "extra_policy_json" {
  description = "IAM policy document (JSON) with what the function calls besides logs, VPC and its secrets, or null."
  type        = string
  default     = null
}

variable "log_group_name" {
  description = "Name of the function's log group, for example \"/aws/lambda/sarc-ng-api\"; null for \"/aws/lambda/<name>\". Lambda writes to it through its logging configuration."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days to keep the function's logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a retention period CloudWatch Logs supports (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
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
