variable "name" {
  description = "Name of the migration function, for example \"sarcng-api-schema-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-_]{1,56}$", var.name))
    error_message = "The name must be 1-56 letters, digits, hyphens or underscores."
  }
}

variable "image_uri" {
  description = "ECR image of the migration runner (the application's migrations and a Lambda handler applying them), pinned by tag or digest."
  type        = string
}

variable "schema_version" {
  description = "Schema version to migrate to. Changing it runs the migrations during apply; the plan shows the change."
  type        = string

  validation {
    condition     = length(trimspace(var.schema_version)) > 0
    error_message = "The schema_version must not be empty."
  }
}

variable "database_secret_arn" {
  description = "Secrets Manager secret with the database credentials and endpoint (the database module's master_secret_arn)."
  type        = string
}

variable "kms_key_arns" {
  description = "KMS keys encrypting the secret (the database module's kms_key_arn)."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Private subnets the migration runs in, with a route to the database subnets."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "At least one subnet is required: the database is reachable only inside the VPC."
  }
}

variable "security_group_ids" {
  description = "Security groups of the migration function (the network module's lambda group, which the database accepts)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) > 0
    error_message = "At least one security group is required."
  }
}

variable "timeout_seconds" {
  description = "Longest a migration may run."
  type        = number
  default     = 900

  validation {
    condition     = var.timeout_seconds >= 60 && var.timeout_seconds <= 900
    error_message = "The timeout_seconds must be between 60 and 900."
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
