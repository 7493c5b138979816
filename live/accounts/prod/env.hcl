# Sizing of the prod environment: three zones, Aurora with a disaster-recovery replica in
# us-west-2, and auto scaling from three tasks.
locals {
  environment = "prod"
  domain_name = "sarc-ng.example.com"

  # Network: one NAT gateway per zone, so losing a zone never cuts the others off.
  single_nat_gateway = false

  # Database: Aurora MySQL 8.0 with a writer and a reader; 30 days of backups taken between
  # 03:00 and 06:00 UTC, maintenance on Mondays 00:00-03:00 UTC.
  # Storage and multi_az are RDS settings: Aurora storage grows by itself, and two instances in
  # different zones make the cluster multi-AZ.
  database = {
    is_aurora                    = true
    engine_version               = "8.0.mysql_aurora.3.03.1"
    instance_class               = "db.r5.large"
    instance_count               = 2
    allocated_storage_gb         = 20
    max_allocated_storage_gb     = 100
    multi_az                     = true
    backup_window                = "03:00-06:00"
    maintenance_window           = "mon:00:00-mon:03:00"
    backup_retention_days        = 30
    deletion_protection          = true
    skip_final_snapshot          = false
    performance_insights_enabled = true

    # The Aurora global database spanning us-east-1 (primary) and us-west-2 (secondary).
    global_cluster_identifier = "sarc-ng-global"
  }

  # ECS services: three tasks of 1 vCPU and 2 GB each, scaling to ten.
  service = {
    cpu           = 1024
    memory        = 2048
    desired_count = 3
    min_capacity  = 3
    max_capacity  = 10
  }
  # On-demand Fargate (the FARGATE launch type).
  service_capacity_provider_strategy = []

  # Always on: no scheduled scaling.
  service_scheduled_scaling = {}

  alb_deletion_protection = true

  log_retention_days = 90
  # Monthly cost budget of the account, in USD (alerts go to alarm_email_addresses).
  monthly_budget_usd = 5000

  alarm_email_addresses = ["platform-team+prod@sarc-ng.example.com"]

  sarcng_api_version = "1.4.2"
  sarcng_web_version = "1.4.1"
  schema_version     = "2024061201"

  # The database password rotation function (image sarcng-db-rotation).
  db_rotation_version = "1.0.0"
}
