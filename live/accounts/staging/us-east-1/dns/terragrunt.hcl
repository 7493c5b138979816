# The staging hosted zone and its wildcard certificate in us-east-1. The zone answers through the
# NS records of its delegation in the parent zone, sarc-ng.example.com in the prod account
# (accounts/prod/us-east-1/dns), which reads this unit's name_servers output; the certificate
# validates only once that delegation exists (live/README.md, "DNS bootstrap order").

include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("common.hcl"))}/_envcommon/dns.hcl"
}
