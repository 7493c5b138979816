# Account-wide resources (IAM). IAM is global; the provider still needs a region.
locals {
  aws_region  = "us-east-1"
  region_code = "global"
  is_primary  = true
}
