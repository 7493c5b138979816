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

# --- Blue-green alias --------------------------------------------------------------------------
# The API always calls the "live" alias. With stable_version set and canary_weight above zero, the
# alias splits traffic between the stable version and the latest one; promoting means setting
# stable_version to the latest version and canary_weight back to 0.

locals {
  serves_canary = var.stable_version != null && var.canary_weight > 0
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "Version(s) the API serves"
  function_name    = module.function.function_name
  function_version = coalesce(var.stable_version, module.function.version)

  dynamic "routing_config" {
    for_each = local.serves_canary ? [1] : []

    content {
      additional_version_weights = { (module.function.version) = var.canary_weight }
    }
  }

  lifecycle {
    precondition {
      condition     = var.canary_weight == 0 || var.stable_version != null
      error_message = "A canary_weight needs a stable_version to split traffic with."
    }
  }
}

# --- HTTP API ----------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  description   = var.description
  protocol_type = "HTTP"

  dynamic "cors_configuration" {
    for_each = length(var.cors_allowed_origins) > 0 ? [1] : []

    content {
      allow_origins = var.cors_allowed_origins
      allow_methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
      allow_headers = ["authorization", "content-type"]
      max_age       = 3600
    }
  }

  tags = var.tags
}

resource "aws_apigatewayv2_integration" "this" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_alias.live.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = var.timeout_seconds * 1000
}

resource "aws_apigatewayv2_route" "default" {
  api_id    = aws_apigatewayv2_api.this.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.this.id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      ip             = "$context.identity.sourceIp"
      requestTime    = "$context.requestTime"
      httpMethod     = "$context.httpMethod"
      routeKey       = "$context.routeKey"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latency        = "$context.integrationLatency"
      error          = "$context.integrationErrorMessage"
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = module.function.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
