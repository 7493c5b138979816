locals {
  environment    = "prod"
  instance_class = "db.r5.large"
  storage_gb     = 100
  replicas       = 3
}
