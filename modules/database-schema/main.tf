module "function" {
  source = "../compute/lambda-function"

  name                     = var.name
  description              = "Applies the database schema migrations up to the requested version"
  image_uri                = var.image_uri
  memory_mb                = 512
  timeout_seconds          = var.timeout_seconds
  environment              = { DATABASE_SECRET_ARN = var.database_secret_arn }
  secret_arns              = [var.database_secret_arn]
  kms_key_arns             = var.kms_key_arns
  subnet_ids               = var.subnet_ids
  security_group_ids       = var.security_group_ids
  permissions_boundary_arn = var.permissions_boundary_arn
  tags                     = var.tags
}

# Runs the migrations whenever the schema version or the runner's code changes. The function
# answers {"version": "..."} once the schema is at that version, or fails the apply.
resource "aws_lambda_invocation" "migrate" {
  function_name = module.function.function_name
  qualifier     = module.function.version
  input         = jsonencode({ action = "migrate", target_version = var.schema_version })

  triggers = {
    schema_version   = var.schema_version
    function_version = module.function.version
  }
}
