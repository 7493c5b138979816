# Common configuration of every region's network unit: the VPC, its subnet tiers, NAT gateways,
# flow logs and security groups. Ranges and zones come from region.hcl, NAT layout from env.hcl.
terraform {
  source = "${get_repo_root()}/modules//network"
}

locals {
  env    = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals
  region = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
}

inputs = {
  name                     = "sarc-ng-${local.env.environment}-${local.region.region_code}"
  cidr_block               = local.region.vpc_cidr
  availability_zones       = local.region.availability_zones
  single_nat_gateway       = local.env.single_nat_gateway
  app_port                 = 8080
  enable_flow_logs         = true
  flow_logs_retention_days = local.env.log_retention_days
}
