variable "name" {
  description = "Identifier of the database instance or cluster, for example \"sarc-ng-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,48}[a-z0-9]$", var.name)) && !strcontains(var.name, "--")
    error_message = "The name must be 2-50 lowercase letters, digits or single hyphens, starting with a letter."
  }
}

variable "is_aurora" {
  description = "Create an Aurora MySQL cluster (true) or a single RDS MySQL instance (false)."
  type        = bool
  default     = false
}

variable "engine_version" {
  description = "Engine version: \"8.0\" (or a full minor) for RDS MySQL, for example \"8.0.mysql_aurora.3.03.1\" for Aurora MySQL."
  type        = string

  validation {
    condition     = can(regex("^8\\.0", var.engine_version))
    error_message = "Only MySQL 8.0 engine versions are supported (\"8.0...\" or \"8.0.mysql_aurora...\")."
  }
}

variable "instance_class" {
  description = "Instance class of the RDS instance or of each Aurora instance, for example \"db.t3.medium\" or \"db.r5.large\"."
  type        = string

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "The instance_class must be an RDS instance class such as db.t3.medium."
  }
}

variable "instance_count" {
  description = "Number of Aurora instances (one writer, the rest readers spread over the zones). Ignored for RDS."
  type        = number
  default     = 2

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 15 && floor(var.instance_count) == var.instance_count
    error_message = "The instance_count must be an integer between 1 and 15."
  }
}

variable "allocated_storage_gb" {
  description = "Initial storage of the RDS instance in GB. Ignored for Aurora, whose storage grows by itself."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage_gb >= 20 && var.allocated_storage_gb <= 65536
    error_message = "The allocated_storage_gb must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gb" {
  description = "Ceiling RDS storage auto scaling may grow the instance to, in GB. Ignored for Aurora."
  type        = number
  default     = 100

  validation {
    condition     = var.max_allocated_storage_gb >= 20 && var.max_allocated_storage_gb <= 65536
    error_message = "The max_allocated_storage_gb must be between 20 and 65536."
  }
}

variable "database_name" {
  description = "Name of the schema created at launch. Ignored for a secondary cluster of a global database."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,63}$", var.database_name))
    error_message = "The database_name must start with a letter and hold at most 64 letters, digits or underscores."
  }
}

variable "master_username" {
  description = "Name of the master user; its generated password is stored in Secrets Manager."
  type        = string
  default     = "sarcng_admin"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,15}$", var.master_username)) && !contains(["admin", "root", "rdsadmin"], lower(var.master_username))
    error_message = "The master_username must be 1-16 letters, digits or underscores, start with a letter, and not be a reserved name."
  }
}

variable "subnet_ids" {
  description = "Database subnets (from the network module), in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "RDS needs subnets in at least two availability zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the database (the network module's database group)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1
    error_message = "At least one security group is required."
  }
}

variable "multi_az" {
  description = "Keep a synchronous standby in another zone. RDS only; Aurora is multi-AZ with instance_count of 2 or more."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days automated backups are kept (policy: at least 7 in dev, 30 in prod)."
  type        = number

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "The backup_retention_days must be between 1 and 35."
  }
}

variable "backup_window" {
  description = "Daily UTC window for automated backups, as \"hh24:mi-hh24:mi\"; must not overlap the maintenance window."
  type        = string
  default     = "03:00-06:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_window))
    error_message = "The backup_window must look like \"03:00-06:00\"."
  }
}

variable "maintenance_window" {
  description = "Weekly UTC maintenance window, as \"ddd:hh24:mi-ddd:hh24:mi\"."
  type        = string
  default     = "mon:00:00-mon:03:00"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.maintenance_window))
    error_message = "The maintenance_window must look like \"mon:00:00-mon:03:00\"."
  }
}

variable "deletion_protection" {
  description = "Refuse deletion of the instance or cluster (policy: required in prod)."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Delete without taking a final snapshot. Only sensible for throw-away environments."
  type        = bool
  default     = false
}

variable "performance_insights_enabled" {
  description = "Turn on Performance Insights (not available on the smallest instance classes)."
  type        = bool
  default     = false
}

variable "performance_insights_retention_days" {
  description = "Days Performance Insights data is kept: 7 (free tier) or a multiple of 31 up to 731."
  type        = number
  default     = 7

  validation {
    condition     = var.performance_insights_retention_days == 7 || var.performance_insights_retention_days == 731 || (var.performance_insights_retention_days % 31 == 0 && var.performance_insights_retention_days <= 713)
    error_message = "The performance_insights_retention_days must be 7, 731, or a multiple of 31 up to 713."
  }
}

variable "cloudwatch_logs_exports" {
  description = "Database logs published to CloudWatch Logs."
  type        = list(string)
  default     = ["error", "slowquery"]

  validation {
    condition     = alltrue([for log in var.cloudwatch_logs_exports : contains(["audit", "error", "general", "slowquery"], log)])
    error_message = "The cloudwatch_logs_exports may contain audit, error, general and slowquery."
  }
}

variable "log_retention_days" {
  description = "Days to keep the exported database logs (and the rotation function's)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a retention period CloudWatch Logs supports (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "rotation_image_uri" {
  description = "ECR image of the single-user MySQL rotation function (AWS's SecretsManagerRDSMySQLRotationSingleUser), pinned; null for no rotation. Ignored by a secondary cluster, whose secret is the primary's replica."
  type        = string
  default     = null
}

variable "rotation_days" {
  description = "Days between rotations of the master password."
  type        = number
  default     = 30

  validation {
    condition     = var.rotation_days >= 1 && var.rotation_days <= 365
    error_message = "The rotation_days must be between 1 and 365."
  }
}

variable "rotation_subnet_ids" {
  description = "Private subnets of the rotation function, which reaches the database and the Secrets Manager API (through NAT)."
  type        = list(string)
  default     = []
}

variable "rotation_security_group_ids" {
  description = "Security groups of the rotation function (the network module's lambda group, which the database accepts)."
  type        = list(string)
  default     = []
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the rotation function's role (the account's, which the live tree passes to every unit)."
  type        = string
  default     = null
}

variable "create_global_cluster" {
  description = "Aurora only: create a global database with this cluster as its primary, for cross-region disaster recovery."
  type        = bool
  default     = false
}

variable "global_cluster_identifier" {
  description = "Aurora only: join this existing global database as a read-only secondary cluster. Its credentials are the primary's (see master_secret_arn)."
  type        = string
  default     = null
}

variable "master_secret_arn" {
  description = "Secondary cluster only: ARN of the primary's credentials secret, replicated into this region (see secret_replica_regions)."
  type        = string
  default     = null
}

variable "master_secret_name" {
  description = "Secondary cluster only: name of the primary's credentials secret (\"<primary name>/database/master\"), whose replica in this region is looked up; an alternative to master_secret_arn that needs no output of the primary."
  type        = string
  default     = null
}

variable "global_cluster_name" {
  description = "Aurora only, with create_global_cluster: identifier of the global database, for example \"sarc-ng-global\"; null for the cluster's name."
  type        = string
  default     = null
}

variable "secret_replica_regions" {
  description = "Regions the credentials secret is replicated to, for the secondary clusters of a global database."
  type        = list(string)
  default     = []
}

variable "apply_immediately" {
  description = "Apply modifications now instead of in the next maintenance window."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
