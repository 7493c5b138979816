# Sizing of the staging environment: production's shape (a NAT gateway per zone, multi-AZ
# database) at a smaller size.
locals {
  environment = "staging"
  domain_name = "staging.sarc-ng.example.com"

  # Network: one NAT gateway per zone, as in prod.
  single_nat_gateway = false

  # Database: a multi-AZ RDS MySQL 8.0 instance.
  database = {
    is_aurora                    = false
    engine_version               = "8.0"
    instance_class               = "db.t3.large"
    instance_count               = 1
    allocated_storage_gb         = 50
    max_allocated_storage_gb     = 200
    multi_az                     = true
    backup_window                = "03:00-06:00"
    maintenance_window           = "mon:00:00-mon:03:00"
    backup_retention_days        = 14
    deletion_protection          = true
    skip_final_snapshot          = false
    performance_insights_enabled = true
  }

  # ECS services: two tasks of 0.5 vCPU and 1 GB each, scaling to four.
  service = {
    cpu           = 512
    memory        = 1024
    desired_count = 2
    min_capacity  = 2
    max_capacity  = 4
  }
  # On-demand Fargate (the FARGATE launch type).
  service_capacity_provider_strategy = []

  # Always on: no scheduled scaling.
  service_scheduled_scaling = {}

  alb_deletion_protection = false

  log_retention_days = 30
  # Monthly cost budget of the account, in USD (alerts go to alarm_email_addresses).
  monthly_budget_usd = 1000

  alarm_email_addresses = ["platform-team+staging@sarc-ng.example.com"]

  sarcng_api_version = "1.4.2"
  sarcng_web_version = "1.4.2"
  schema_version     = "2024061201"

  # The database password rotation function (image sarcng-db-rotation).
  db_rotation_version = "1.0.0"
}
