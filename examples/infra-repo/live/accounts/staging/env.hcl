locals {
  environment    = "staging"
  instance_class = "db.t3.large"
  storage_gb     = 50
  replicas       = 2
}
