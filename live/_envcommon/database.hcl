# Common configuration of every region's database unit: RDS MySQL or Aurora MySQL as env.hcl
# sizes it. Units add the network wiring and, in prod, the global database settings.
terraform {
  source = "${get_repo_root()}/modules//database"
}

locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  env     = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
  db      = local.env.database
}

inputs = {
  name                         = "sarc-ng-${local.env.environment}-${local.region.region_code}"
  database_name                = "sarcng"
  is_aurora                    = local.db.is_aurora
  engine_version               = local.db.engine_version
  instance_class               = local.db.instance_class
  instance_count               = local.db.instance_count
  allocated_storage_gb         = local.db.allocated_storage_gb
  max_allocated_storage_gb     = local.db.max_allocated_storage_gb
  multi_az                     = local.db.multi_az
  backup_retention_days        = local.db.backup_retention_days
  backup_window                = local.db.backup_window
  maintenance_window           = local.db.maintenance_window
  deletion_protection          = local.db.deletion_protection
  skip_final_snapshot          = local.db.skip_final_snapshot
  performance_insights_enabled = local.db.performance_insights_enabled

  # The error and slow query logs go to log groups the module creates, with this retention.
  log_retention_days = local.env.log_retention_days

  # The master password rotates every 30 days (the units wire the function into the VPC). A
  # secondary cluster ignores this: its secret is the primary's replica, rotated with it.
  rotation_image_uri = "${local.account.account_id}.dkr.ecr.${local.region.aws_region}.amazonaws.com/sarcng-db-rotation:${local.env.db_rotation_version}"
  rotation_days      = 30
}
