variable "trusted_role_arns" {
  description = "IAM roles allowed to assume the plan and apply roles: the Slipway service's task role."
  type        = list(string)

  validation {
    condition     = length(var.trusted_role_arns) > 0 && alltrue([for arn in var.trusted_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", arn))])
    error_message = "Give at least one IAM role ARN, such as arn:aws:iam::333333333333:role/sarc-ng-slipway-task."
  }
}

variable "external_id" {
  description = "External id Slipway passes to AssumeRole (slipway.toml external_id); the trust policies require it."
  type        = string

  validation {
    condition     = can(regex("^[\\w+=,.@:/-]{2,1224}$", var.external_id))
    error_message = "The external_id must be 2-1224 characters of letters, digits and +=,.@:/-_."
  }
}

variable "plan_role_name" {
  description = "Name of the read-only role Slipway plans with (slipway.toml plan_role)."
  type        = string
  default     = "slipway-plan"
}

variable "apply_role_name" {
  description = "Name of the role Slipway applies with (slipway.toml apply_role)."
  type        = string
  default     = "slipway-apply"
}

variable "state_bucket_name" {
  description = "S3 bucket holding this account's Terraform state."
  type        = string
}

variable "lock_table_name" {
  description = "DynamoDB table holding this account's Terraform state locks."
  type        = string
}

variable "extra_state_bucket_names" {
  description = "Further state buckets of this account, such as the disaster-recovery region's own bucket."
  type        = list(string)
  default     = []
}

variable "permissions_boundary_name" {
  description = "Name of the permissions boundary policy this module creates, which every role the apply role creates must carry. Keep it outside managed_name_prefixes, or the apply role could edit it."
  type        = string
  default     = "slipway-workload-boundary"
}

variable "protected_role_name_patterns" {
  description = "Name patterns of Slipway's own roles in the account besides the plan and apply roles (its service's task and execution roles), which the apply role may not change even though their names fall under managed_name_prefixes."
  type        = list(string)
  default     = ["sarc-ng-slipway-*", "slipway-*"]
}

variable "attachable_aws_managed_policies" {
  description = "AWS managed policies (names under arn:aws:iam::aws:policy/) the apply role may attach to the project's roles, besides the project's own policies."
  type        = list(string)
  default = [
    "AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly",
    "AWSCodeDeployRoleForECS",
  ]

  validation {
    condition     = !contains(var.attachable_aws_managed_policies, "AdministratorAccess") && !contains(var.attachable_aws_managed_policies, "IAMFullAccess") && !contains(var.attachable_aws_managed_policies, "PowerUserAccess")
    error_message = "AdministratorAccess, IAMFullAccess and PowerUserAccess are never attachable."
  }
}

variable "passable_to_services" {
  description = "Services the apply role may pass the project's roles to."
  type        = list(string)
  default = [
    "ecs-tasks.amazonaws.com", "lambda.amazonaws.com", "vpc-flow-logs.amazonaws.com", "eks.amazonaws.com",
    "ec2.amazonaws.com", "codedeploy.amazonaws.com", "cloudtrail.amazonaws.com", "events.amazonaws.com",
  ]
}

variable "managed_name_prefixes" {
  description = "Name prefixes of the IAM roles and policies the apply role may manage, and of the secrets the plan role may read to refresh state."
  type        = list(string)
  default     = ["sarc-ng-", "sarcng-"]

  validation {
    condition     = length(var.managed_name_prefixes) > 0 && alltrue([for prefix in var.managed_name_prefixes : length(prefix) >= 3 && !strcontains(prefix, "*")])
    error_message = "Give at least one prefix of 3 characters or more, without wildcards."
  }
}

variable "max_session_duration_seconds" {
  description = "Longest session Slipway may hold with either role; long enough for the slowest apply."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration_seconds >= 3600 && var.max_session_duration_seconds <= 43200
    error_message = "The max_session_duration_seconds must be between 3600 and 43200."
  }
}

variable "tags" {
  description = "Extra tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
