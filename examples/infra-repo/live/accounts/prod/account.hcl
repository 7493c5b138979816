locals {
  account_name = "prod"
  account_id   = "333333333333"
}
