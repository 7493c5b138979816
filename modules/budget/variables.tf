variable "name" {
  description = "Name prefix of the budget, for example \"sarc-ng-prod\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,60}[a-z0-9]$", var.name))
    error_message = "The name must be 3-62 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "monthly_limit_usd" {
  description = "Monthly cost the environment's account is expected to stay under, in USD."
  type        = number

  validation {
    condition     = var.monthly_limit_usd > 0
    error_message = "The monthly_limit_usd must be positive."
  }
}

variable "alerts" {
  description = "When to alert: percent of the limit, on the actual cost or on the month's forecast."
  type = list(object({
    percent  = number
    forecast = bool
  }))
  default = [
    { percent = 80, forecast = false },
    { percent = 100, forecast = false },
    { percent = 100, forecast = true },
  ]
}

variable "alert_email_addresses" {
  description = "Addresses the alerts go to."
  type        = list(string)
  default     = []
}

variable "alert_topic_arns" {
  description = "SNS topics the alerts go to (the topic's policy must let budgets.amazonaws.com publish)."
  type        = list(string)
  default     = []
}
