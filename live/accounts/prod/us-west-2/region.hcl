# Disaster recovery: a warm standby of the primary region, with the Aurora global database's
# secondary cluster and the failover records' SECONDARY side.
locals {
  aws_region         = "us-west-2"
  region_code        = "usw2"
  is_primary         = false
  vpc_cidr           = "10.3.0.0/16"
  availability_zones = ["us-west-2a", "us-west-2b", "us-west-2c"]
}
