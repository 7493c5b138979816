# The primary region: the VPC range and availability zones of this environment's units here.
locals {
  aws_region         = "us-east-1"
  region_code        = "use1"
  is_primary         = true
  vpc_cidr           = "10.0.0.0/16"
  availability_zones = ["us-east-1a", "us-east-1b"]
}
