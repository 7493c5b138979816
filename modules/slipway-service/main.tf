# --- Plan artifacts ----------------------------------------------------------------------------
# Plan files, plan JSON and logs, keyed by repository, pull request, commit and unit.

resource "aws_s3_bucket" "artifacts" {
  bucket_prefix = "${var.name}-artifacts-"

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  rule {
    id     = "expire-artifacts"
    status = "Enabled"

    filter {}

    expiration {
      days = var.artifact_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.artifacts]
}

data "aws_iam_policy_document" "artifacts_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.artifacts_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

# --- GitHub App credentials --------------------------------------------------------------------
# Terraform creates the secret, never its value: an operator stores the GitHub App's
# {"app_id", "private_key", "webhook_secret"} once, so no credential passes through state.

resource "aws_secretsmanager_secret" "github" {
  name        = "${var.name}/github-app"
  description = "GitHub App credentials of Slipway: app_id, private_key, webhook_secret"

  tags = var.tags
}

# --- Service -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "AssumeTargetRoles"
    actions   = ["sts:AssumeRole"]
    resources = var.target_role_arns
  }

  statement {
    sid       = "ListArtifacts"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.artifacts.arn]
  }

  statement {
    sid       = "ReadWriteArtifacts"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.artifacts.arn}/*"]
  }
}

module "service" {
  source = "../compute/ecs-alb-service"

  name                   = var.name
  cluster_arn            = var.cluster_arn
  cluster_name           = var.cluster_name
  vpc_id                 = var.vpc_id
  public_subnet_ids      = var.public_subnet_ids
  private_subnet_ids     = var.private_subnet_ids
  alb_security_group_id  = var.alb_security_group_id
  task_security_group_id = var.task_security_group_id
  certificate_arn        = var.certificate_arn
  dns_record             = var.dns_record

  container_image   = var.container_image
  container_port    = 8080
  container_command = ["slipway", "serve"]
  cpu               = var.cpu
  memory            = var.memory
  health_check_path = "/healthz"

  environment = merge(var.environment, {
    SLIPWAY_ARTIFACT_STORE = "s3://${aws_s3_bucket.artifacts.bucket}"
  })
  secrets = {
    SLIPWAY_GITHUB_APP_ID      = { secret_arn = aws_secretsmanager_secret.github.arn, json_key = "app_id" }
    SLIPWAY_GITHUB_PRIVATE_KEY = { secret_arn = aws_secretsmanager_secret.github.arn, json_key = "private_key" }
    SLIPWAY_WEBHOOK_SECRET     = { secret_arn = aws_secretsmanager_secret.github.arn, json_key = "webhook_secret" }
  }
  task_role_policy_json = data.aws_iam_policy_document.task.json

  # One task: the default job store is SQLite inside the task. Run several behind a shared
  # PostgreSQL job store (`slipway worker`) to scale out.
  desired_count = 1
  min_capacity  = 1
  max_capacity  = 1

  log_retention_days       = var.log_retention_days
  permissions_boundary_arn = var.permissions_boundary_arn
  tags                     = var.tags
}
