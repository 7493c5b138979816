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

variable "image_tag" {
  type        = string
  description = "Container image tag to run."
}

variable "replicas" {
  type        = number
  description = "Number of tasks."
}

variable "database_endpoint" {
  type        = string
  description = "Endpoint of the database the app connects to."
}

resource "null_resource" "task" {
  count = var.replicas

  triggers = {
    environment = var.environment
    image_tag   = var.image_tag
    database    = var.database_endpoint
    slot        = tostring(count.index)
  }
}

output "task_count" {
  description = "Number of tasks running."
  value       = length(null_resource.task)
}
