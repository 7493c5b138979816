# Sizing of the dev environment: smallest footprint, one of everything.
locals {
  environment = "dev"
  domain_name = "dev.sarc-ng.example.com"

  # Network: one NAT gateway shared by both zones.
  single_nat_gateway = true

  # Database: a single RDS MySQL 8.0 instance, storage growing from 20 to 100 GB.
  database = {
    is_aurora                    = false
    engine_version               = "8.0"
    instance_class               = "db.t3.medium"
    instance_count               = 1
    allocated_storage_gb         = 20
    max_allocated_storage_gb     = 100
    multi_az                     = false
    backup_window                = "03:00-06:00"
    maintenance_window           = "mon:00:00-mon:03:00"
    backup_retention_days        = 7
    deletion_protection          = false
    skip_final_snapshot          = true
    performance_insights_enabled = false
  }

  # ECS services: one task of 0.5 vCPU and 1 GB each, scaling to two.
  service = {
    cpu           = 512
    memory        = 1024
    desired_count = 1
    min_capacity  = 1
    max_capacity  = 2
  }
  # Dev tasks run on Fargate Spot (the cluster offers FARGATE and FARGATE_SPOT): cheaper, and an
  # interrupted task is simply replaced.
  service_capacity_provider_strategy = [{ capacity_provider = "FARGATE_SPOT", weight = 1 }]

  # Off hours (weekdays 20:00 to 07:00 UTC, and weekends) the dev services scale to zero.
  service_scheduled_scaling = {
    off-hours     = { schedule = "cron(0 20 ? * MON-FRI *)", min_capacity = 0, max_capacity = 0 }
    working-hours = { schedule = "cron(0 7 ? * MON-FRI *)", min_capacity = 1, max_capacity = 2 }
  }

  alb_deletion_protection = false

  log_retention_days = 14
  # Monthly cost budget of the account, in USD (alerts go to alarm_email_addresses).
  monthly_budget_usd = 500

  alarm_email_addresses = ["platform-team+dev@sarc-ng.example.com"]

  # Versions deployed here; promotion copies them to staging, then prod.
  sarcng_api_version = "1.5.0"
  sarcng_web_version = "1.5.0"
  schema_version     = "2024061201"

  # The database password rotation function (image sarcng-db-rotation).
  db_rotation_version = "1.0.0"
}
