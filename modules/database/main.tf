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

  storage_encrypted      = true
  kms_key_id             = aws_kms_key.this.arn
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = var.security_group_ids

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
    # After a global failover the source is managed by RDS, not by this configuration.
    ignore_changes = [replication_source_identifier]

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
  promotion_tier             = count.index
  copy_tags_to_snapshot      = true

  performance_insights_enabled          = var.performance_insights_enabled
  performance_insights_kms_key_id       = var.performance_insights_enabled ? aws_kms_key.this.arn : null
  performance_insights_retention_period = var.performance_insights_enabled ? var.performance_insights_retention_days : null

  tags = var.tags
}
