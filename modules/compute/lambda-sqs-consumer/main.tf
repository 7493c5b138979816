resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name}-dead-letter"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

resource "aws_sqs_queue" "this" {
  name                       = var.name
  message_retention_seconds  = var.message_retention_seconds
  visibility_timeout_seconds = var.timeout_seconds * 6
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

# Only this queue may send its failed messages to the dead-letter queue.
resource "aws_sqs_queue_redrive_allow_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this.arn]
  })
}

data "aws_iam_policy_document" "consume" {
  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.this.arn]
  }
}

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
  extra_policy_json        = data.aws_iam_policy_document.consume.json
  log_retention_days       = var.log_retention_days
  log_group_name           = var.log_group_name
  permissions_boundary_arn = var.permissions_boundary_arn
  tags                     = var.tags
}

# The function reports failed messages individually, so one bad message does not make the whole
# batch visible again.
resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = aws_sqs_queue.this.arn
  function_name                      = module.function.function_arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.maximum_concurrency
  }

  lifecycle {
    precondition {
      condition     = var.batch_size <= 10 || var.batching_window_seconds > 0
      error_message = "A batch_size above 10 needs batching_window_seconds above 0."
    }
  }
}
