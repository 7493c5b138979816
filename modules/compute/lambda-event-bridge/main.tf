module "function" {
  source = "../lambda-function"

  name                     = var.name
  description              = var.description
  image_uri                = var.image_uri
  image_command            = var.image_command
  memory_mb                = var.memory_mb
  timeout_seconds          = var.timeout_seconds
  environment              = var.environment
  secret_arns              = var.secret_arns
  kms_key_arns             = var.kms_key_arns
  subnet_ids               = var.subnet_ids
  security_group_ids       = var.security_group_ids
  log_retention_days       = var.log_retention_days
  log_group_name           = var.log_group_name
  permissions_boundary_arn = var.permissions_boundary_arn
  tags                     = var.tags
}

resource "aws_cloudwatch_event_rule" "this" {
  name                = var.name
  description         = var.description
  event_bus_name      = var.schedule_expression == null ? var.event_bus_name : "default"
  schedule_expression = var.schedule_expression
  event_pattern       = var.event_pattern

  lifecycle {
    precondition {
      condition     = (var.schedule_expression == null) != (var.event_pattern == null)
      error_message = "Set exactly one of schedule_expression and event_pattern."
    }
  }

  tags = var.tags
}

# Events EventBridge could not deliver after its retries, kept for 14 days for inspection.
resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name}-dead-letter"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

data "aws_iam_policy_document" "dead_letter" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.this.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy    = data.aws_iam_policy_document.dead_letter.json
}

resource "aws_cloudwatch_event_target" "this" {
  rule           = aws_cloudwatch_event_rule.this.name
  event_bus_name = aws_cloudwatch_event_rule.this.event_bus_name
  arn            = module.function.function_arn

  retry_policy {
    maximum_retry_attempts       = var.maximum_retry_attempts
    maximum_event_age_in_seconds = var.maximum_event_age_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }
}

resource "aws_lambda_permission" "events" {
  statement_id  = "AllowInvokeFromEventBridge"
  action        = "lambda:InvokeFunction"
  function_name = module.function.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}
