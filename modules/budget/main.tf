# One monthly cost budget for the environment's account (each environment has an account of its
# own, so the account's cost is the environment's), with alerts by email and to the alarm topic.
resource "aws_budgets_budget" "monthly" {
  name         = "${var.name}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_limit_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  dynamic "notification" {
    for_each = var.alerts

    content {
      comparison_operator        = "GREATER_THAN"
      threshold                  = notification.value.percent
      threshold_type             = "PERCENTAGE"
      notification_type          = notification.value.forecast ? "FORECASTED" : "ACTUAL"
      subscriber_email_addresses = var.alert_email_addresses
      subscriber_sns_topic_arns  = var.alert_topic_arns
    }
  }

  lifecycle {
    precondition {
      condition     = length(var.alert_email_addresses) + length(var.alert_topic_arns) > 0
      error_message = "A budget needs someone to alert: alert_email_addresses or alert_topic_arns."
    }
  }
}
