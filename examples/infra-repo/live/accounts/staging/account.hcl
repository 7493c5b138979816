locals {
  account_name = "staging"
  account_id   = "222222222222"
}
