locals {
  environment    = "dev"
  instance_class = "db.t3.medium"
  storage_gb     = 20
  replicas       = 1
}
