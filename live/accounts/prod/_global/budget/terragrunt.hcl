# The prod environment's monthly cost budget, with alerts at 80 % and 100 % (and 100 % forecast).

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/budget.hcl"
}
