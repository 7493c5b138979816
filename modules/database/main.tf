data "aws_region" "current" {}

locals {
  # A secondary cluster of a global database has no credentials of its own: it replicates the
  # primary's data, users included.
  is_secondary = var.global_cluster_identifier != null
  owns_secret  = !local.is_secondary

  aurora_cluster_identifier = var.create_global_cluster ? aws_rds_global_cluster.this[0].id : var.global_cluster_identifier

  endpoint = var.is_aurora ? aws_rds_cluster.this[0].endpoint : aws_db_instance.this[0].address

  master_secret_arn = (
    local.owns_secret ? aws_secretsmanager_secret.master[0].arn
    : var.master_secret_arn != null ? var.master_secret_arn
    : one(data.aws_secretsmanager_secret.replica[*].arn)
  )
}

# A secondary cluster given the primary's secret by name finds its replica in this region, so it
# reads no output of the primary region's unit (and can be applied while that region is down).
data "aws_secretsmanager_secret" "replica" {
  count = local.is_secondary && var.master_secret_arn == null && var.master_secret_name != null ? 1 : 0

  name = var.master_secret_name
}

# --- Encryption --------------------------------------------------------------------------------

resource "aws_kms_key" "this" {
  description             = "Encrypts the ${var.name} database, its backups, Performance Insights data and credentials"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}-database"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids

  tags = var.tags
}

# --- Logs --------------------------------------------------------------------------------------
# The log groups RDS publishes the exported logs to, created first so that their retention is
# managed here (RDS would create them with logs kept forever). RDS names them after the instance
# or cluster: /aws/rds/instance/<name>/<log> for RDS, /aws/rds/cluster/<name>/<log> for Aurora.

resource "aws_cloudwatch_log_group" "database" {
  for_each = toset(var.cloudwatch_logs_exports)

  name              = "/aws/rds/${var.is_aurora ? "cluster" : "instance"}/${var.name}/${each.value}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

# --- TLS ---------------------------------------------------------------------------------------
# Clients must connect with TLS: require_secure_transport refuses plain connections.

resource "aws_db_parameter_group" "this" {
  count = var.is_aurora ? 0 : 1

  name        = "${var.name}-tls"
  family      = "mysql8.0"
  description = "${var.name}: TLS required"

  parameter {
    name  = "require_secure_transport"
    value = "1"
  }

  tags = var.tags
}

resource "aws_rds_cluster_parameter_group" "this" {
  count = var.is_aurora ? 1 : 0

  name        = "${var.name}-tls"
  family      = "aurora-mysql8.0"
  description = "${var.name}: TLS required"

  parameter {
    name  = "require_secure_transport"
    value = "ON"
  }

  tags = var.tags
}

# --- Credentials -------------------------------------------------------------------------------

resource "random_password" "master" {
  count = local.owns_secret ? 1 : 0

  length           = 32
  special          = true
  override_special = "!#$%^&*()-_=+[]{}:?"
}

resource "aws_secretsmanager_secret" "master" {
  count = local.owns_secret ? 1 : 0

  name                    = "${var.name}/database/master"
  description             = "Master credentials of the ${var.name} database"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 30

  dynamic "replica" {
    for_each = toset(var.secret_replica_regions)

    content {
      region = replica.value
    }
  }

  tags = var.tags
}

# The usual RDS secret shape, so drivers and rotation functions can read it as is.
resource "aws_secretsmanager_secret_version" "master" {
  count = local.owns_secret ? 1 : 0

  secret_id = aws_secretsmanager_secret.master[0].id
  secret_string = jsonencode({
    engine   = "mysql"
    host     = local.endpoint
    port     = 3306
    username = var.master_username
    password = random_password.master[0].result
    dbname   = var.database_name
  })

  lifecycle {
    # Rotation changes the password (and writes new versions); Terraform writes the first one.
    ignore_changes = [secret_string]
  }
}

# --- Rotation ----------------------------------------------------------------------------------
# Secrets Manager rotates the master password every rotation_days with a single-user MySQL
# rotation function in the VPC (AWS's SecretsManagerRDSMySQLRotationSingleUser, packaged as a
# container image). Not with RDS-managed master passwords: those are not supported for clusters
# of an Aurora global database, and one mechanism serves every environment.

locals {
  rotates = local.owns_secret && var.rotation_image_uri != null
}

data "aws_iam_policy_document" "rotation" {
  count = local.rotates ? 1 : 0

  statement {
    sid       = "RotateTheSecret"
    actions   = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"]
    resources = [aws_secretsmanager_secret.master[0].arn]
  }

  statement {
    sid       = "NewPasswords"
    actions   = ["secretsmanager:GetRandomPassword"]
    resources = ["*"]
  }

  statement {
    sid       = "SecretKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

module "rotation" {
  source = "../compute/lambda-function"
  count  = local.rotates ? 1 : 0

  name               = "${var.name}-rotation"
  description        = "Rotates the master password of the ${var.name} database"
  image_uri          = var.rotation_image_uri
  timeout_seconds    = 60
  subnet_ids         = var.rotation_subnet_ids
  security_group_ids = var.rotation_security_group_ids
  extra_policy_json  = data.aws_iam_policy_document.rotation[0].json
  log_retention_days = var.log_retention_days

  environment = {
    SECRETS_MANAGER_ENDPOINT = "https://secretsmanager.${data.aws_region.current.name}.amazonaws.com"
    EXCLUDE_CHARACTERS       = "/@\"'\\"
  }

  permissions_boundary_arn = var.permissions_boundary_arn
  tags                     = var.tags
}

resource "aws_lambda_permission" "rotation" {
  count = local.rotates ? 1 : 0

  statement_id  = "SecretsManagerRotates"
  action        = "lambda:InvokeFunction"
  function_name = module.rotation[0].function_name
  principal     = "secretsmanager.amazonaws.com"
  source_arn    = aws_secretsmanager_secret.master[0].arn
}

resource "aws_secretsmanager_secret_rotation" "master" {
  count = local.rotates ? 1 : 0

  secret_id           = aws_secretsmanager_secret.master[0].id
  rotation_lambda_arn = module.rotation[0].function_arn

  rotation_rules {
    automatically_after_days = var.rotation_days
  }

  lifecycle {
    precondition {
      condition     = length(var.rotation_subnet_ids) > 0 && length(var.rotation_security_group_ids) > 0
      error_message = "Rotation needs rotation_subnet_ids and rotation_security_group_ids: the function reaches the database from the VPC."
    }
  }

  depends_on = [aws_lambda_permission.rotation]
}

# --- RDS MySQL ---------------------------------------------------------------------------------

resource "aws_db_instance" "this" {
  count = var.is_aurora ? 0 : 1

  identifier     = var.name
  engine         = "mysql"
  engine_version = var.engine_version
  instance_class = var.instance_class

  db_name  = var.database_name
  username = var.master_username
  password = random_password.master[0].result

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.this.arn

  multi_az               = var.multi_az
  parameter_group_name   = aws_db_parameter_group.this[0].name
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = var.security_group_ids
  publicly_accessible    = false

  backup_retention_period    = var.backup_retention_days
  backup_window              = var.backup_window
  maintenance_window         = var.maintenance_window
  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately
  copy_tags_to_snapshot      = true
  deletion_protection        = var.deletion_protection
  skip_final_snapshot        = var.skip_final_snapshot
  final_snapshot_identifier  = "${var.name}-final"

  performance_insights_enabled          = var.performance_insights_enabled
  performance_insights_kms_key_id       = var.performance_insights_enabled ? aws_kms_key.this.arn : null
  performance_insights_retention_period = var.performance_insights_enabled ? var.performance_insights_retention_days : null

  enabled_cloudwatch_logs_exports = var.cloudwatch_logs_exports

  lifecycle {
    # Secrets Manager rotates the password.
    ignore_changes = [password]

    precondition {
      condition     = var.max_allocated_storage_gb >= var.allocated_storage_gb
      error_message = "The max_allocated_storage_gb must be at least allocated_storage_gb."
    }

    precondition {
      condition     = !var.create_global_cluster && var.global_cluster_identifier == null
      error_message = "Global databases need Aurora: set is_aurora = true."
    }
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.database]
}

# --- Aurora MySQL ------------------------------------------------------------------------------

resource "aws_rds_global_cluster" "this" {
  count = var.is_aurora && var.create_global_cluster ? 1 : 0

  global_cluster_identifier = coalesce(var.global_cluster_name, var.name)
  engine                    = "aurora-mysql"
  engine_version            = var.engine_version
  database_name             = var.database_name
  storage_encrypted         = true
  deletion_protection       = var.deletion_protection
}

resource "aws_rds_cluster" "this" {
  count = var.is_aurora ? 1 : 0

  cluster_identifier        = var.name
  engine                    = "aurora-mysql"
  engine_version            = var.engine_version
  global_cluster_identifier = local.aurora_cluster_identifier

  database_name   = local.is_secondary ? null : var.database_name
  master_username = local.is_secondary ? null : var.master_username
  master_password = local.is_secondary ? null : random_password.master[0].result

  storage_encrypted               = true
  kms_key_id                      = aws_kms_key.this.arn
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this[0].name
  db_subnet_group_name            = aws_db_subnet_group.this.name
  vpc_security_group_ids          = var.security_group_ids

  backup_retention_period      = var.backup_retention_days
  preferred_backup_window      = var.backup_window
  preferred_maintenance_window = var.maintenance_window
  apply_immediately            = var.apply_immediately
  copy_tags_to_snapshot        = true
  deletion_protection          = var.deletion_protection
  skip_final_snapshot          = var.skip_final_snapshot
  final_snapshot_identifier    = "${var.name}-final"

  enabled_cloudwatch_logs_exports = var.cloudwatch_logs_exports

  lifecycle {
    # After a global failover the source is managed by RDS, not by this configuration; Secrets
    # Manager rotates the password.
    ignore_changes = [replication_source_identifier, master_password]

    precondition {
      condition     = !(var.create_global_cluster && var.global_cluster_identifier != null)
      error_message = "A cluster either creates a global database or joins one, not both."
    }

    precondition {
      condition     = !local.is_secondary || var.master_secret_arn != null || var.master_secret_name != null
      error_message = "A secondary cluster needs master_secret_arn or master_secret_name: the primary's secret replicated into this region."
    }
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.database]
}

resource "aws_rds_cluster_instance" "this" {
  count = var.is_aurora ? var.instance_count : 0

  identifier         = "${var.name}-${count.index + 1}"
  cluster_identifier = aws_rds_cluster.this[0].id
  engine             = aws_rds_cluster.this[0].engine
  engine_version     = aws_rds_cluster.this[0].engine_version
  instance_class     = var.instance_class

  db_subnet_group_name       = aws_db_subnet_group.this.name
  publicly_accessible        = false
  auto_minor_version_upgrade = true
  apply_immediately          = var.apply_immediately
  # Tiers 1, 2, ... in order, as the platform specifies: the first reader (tier 1 after the
  # writer) is promoted first; tier 0 is left free for an instance that must always win.
  promotion_tier        = count.index + 1
  copy_tags_to_snapshot = true

  performance_insights_enabled          = var.performance_insights_enabled
  performance_insights_kms_key_id       = var.performance_insights_enabled ? aws_kms_key.this.arn : null
  performance_insights_retention_period = var.performance_insights_enabled ? var.performance_insights_retention_days : null

  tags = var.tags
}
