# Disaster recovery: a warm standby of the primary region, with the Aurora global database's
# secondary cluster and the failover records' SECONDARY side.
locals {
  aws_region         = "us-west-2"
  region_code        = "usw2"
  is_primary         = false
  vpc_cidr           = "10.3.0.0/16"
  availability_zones = ["us-west-2a", "us-west-2b", "us-west-2c"]

  # The DR region's state is its own: bucket sarc-ng-tfstate-333333333333-us-west-2 and lock
  # table sarc-ng-tfstate-lock in us-west-2 (live/root.hcl), so its units can be planned and
  # applied while us-east-1 is down.
  state_region = "us-west-2"
}
