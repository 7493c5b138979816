# The roles Slipway assumes in the prod account: slipway-plan (read-only) and slipway-apply.
# Applied once by an administrator; the apply role cannot change these roles itself.

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/slipway-roles.hcl"
}
