variable "name" {
  description = "Name prefix of the topic, alarms and metrics, for example \"sarc-ng-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,62}$", var.name))
    error_message = "The name must be 2-63 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "alarm_email_addresses" {
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for address in var.alarm_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "Every alarm email address must look like name@example.com."
  }
}

variable "ecs_cluster_name" {
  description = "ECS cluster of the services to watch."
  type        = string
}

variable "ecs_service_names" {
  description = "ECS services whose average CPU is alarmed on."
  type        = list(string)
  default     = []
}

variable "cpu_threshold_percent" {
  description = "CPU utilisation (services and database) above which an alarm fires."
  type        = number
  default     = 80

  validation {
    condition     = var.cpu_threshold_percent > 0 && var.cpu_threshold_percent <= 100
    error_message = "The cpu_threshold_percent must be between 1 and 100."
  }
}

variable "database_dimensions" {
  description = "CloudWatch dimensions of the database (the database module's cloudwatch_dimensions output), or null for no database alarms."
  type        = map(string)
  default     = null
}

variable "database_connections_threshold" {
  description = "Open database connections above which an alarm fires."
  type        = number
  default     = 80

  validation {
    condition     = var.database_connections_threshold > 0
    error_message = "The database_connections_threshold must be positive."
  }
}

variable "load_balancers" {
  description = "Application load balancers to watch for 5xx answers: name => ARN suffix (the ecs-alb-service module's alb_arn_suffix output)."
  type        = map(string)
  default     = {}
}

variable "http_5xx_threshold" {
  description = "5xx answers per 5 minutes (from the load balancer or its targets) above which an alarm fires."
  type        = number
  default     = 10

  validation {
    condition     = var.http_5xx_threshold >= 0
    error_message = "The http_5xx_threshold must not be negative."
  }
}

variable "error_log_groups" {
  description = "Log groups to count application errors in: name => log group name. Each gets a custom metric \"<name>-errors\" and an alarm."
  type        = map(string)
  default     = {}
}

variable "error_log_pattern" {
  description = "CloudWatch Logs filter pattern matching one application error line."
  type        = string
  default     = "?ERROR ?Error ?error"
}

variable "error_threshold" {
  description = "Application errors per 5 minutes above which an alarm fires."
  type        = number
  default     = 10
}

variable "log_groups" {
  description = "Shared log groups not owned by one service (for example audit logs): name => retention in days."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for days in values(var.log_groups) : contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], days)])
    error_message = "Every retention must be a period CloudWatch Logs supports (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "application_metrics_namespace" {
  description = "CloudWatch namespace the application publishes its metrics in."
  type        = string
  default     = "SARC-NG"
}

variable "application_metric_dimensions" {
  description = "Dimensions the application publishes its metrics with, for example { Environment = \"prod\", Service = \"sarcng-api\" }."
  type        = map(string)
  default     = {}
}

variable "application_metric_alarms" {
  description = "Alarms on the application's own metrics: metric name => statistic (or extended_statistic such as p95), comparison, threshold, period and evaluation periods. By default the four SARC-NG metrics."
  type = map(object({
    description        = string
    comparison         = string
    threshold          = number
    statistic          = optional(string, "Average")
    extended_statistic = optional(string)
    period             = optional(number, 300)
    evaluation_periods = optional(number, 3)
  }))
  default = {
    reservation_success_rate = {
      description = "Share of reservation requests that succeed, in percent"
      comparison  = "LessThanThreshold"
      threshold   = 95
    }
    resource_utilization = {
      description = "Share of bookable resources reserved, in percent"
      comparison  = "GreaterThanThreshold"
      threshold   = 90
    }
    api_response_time = {
      description        = "95th percentile API response time, in milliseconds"
      comparison         = "GreaterThanThreshold"
      threshold          = 1000
      extended_statistic = "p95"
    }
    database_connection_pool = {
      description = "Share of the API's database connection pool in use, in percent"
      comparison  = "GreaterThanThreshold"
      threshold   = 80
    }
  }

  validation {
    condition     = alltrue([for alarm in values(var.application_metric_alarms) : contains(["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"], alarm.comparison)])
    error_message = "Every comparison must be one of GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold, LessThanOrEqualToThreshold."
  }
}

variable "tags" {
  description = "Extra tags for every resource, on top of the provider's default_tags."
  type        = map(string)
  default     = {}
}
