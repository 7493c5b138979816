terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

variable "environment" {
  type        = string
  description = "Environment name."
}

variable "instance_class" {
  type        = string
  description = "Database instance class."
}

variable "storage_gb" {
  type        = number
  description = "Allocated storage in GB."
}

resource "null_resource" "database" {
  triggers = {
    environment    = var.environment
    instance_class = var.instance_class
    storage_gb     = tostring(var.storage_gb)
  }
}

output "endpoint" {
  description = "Database endpoint."
  value       = "db-${var.environment}.internal:3306"
}
