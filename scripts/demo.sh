#!/usr/bin/env bash
# Slipway's demo: a local review of a sample change in the example infrastructure repo.
# Copies examples/infra-repo into a temporary git repository, commits it, commits a change
# (dev app: new image tag and one more task), and prints the comment Slipway would post.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TF_CLI_CONFIG_FILE="$root/.tools/terraformrc"
export SLIPWAY_TERRAFORM="$root/.tools/bin/terraform"
slipway="$root/target/release/slipway"

work="$(mktemp -d "${TMPDIR:-/tmp}/slipway-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
repo="$work/infra"
cp -R "$root/examples/infra-repo" "$repo"
git -C "$repo" init -q -b main
git -C "$repo" -c user.name=demo -c user.email=demo@example.com add -A
git -C "$repo" -c user.name=demo -c user.email=demo@example.com commit -qm "SARC-NG example infrastructure"

app="$repo/live/accounts/dev/us-east-1/app/terragrunt.hcl"
sed -i 's/image_tag         = "v1.4.0"/image_tag         = "v1.5.0"/' "$app"
sed -i 's/replicas       = 1/replicas       = 2/' "$repo/live/accounts/dev/env.hcl"
git -C "$repo" -c user.name=demo -c user.email=demo@example.com commit -qam "dev: roll out v1.5.0 on two tasks"

echo "== slipway affected --repo <example> --base HEAD~1" >&2
"$slipway" affected --repo "$repo" --base HEAD~1 >&2
echo >&2
echo "== slipway plan --repo <example> --base HEAD~1 --head HEAD" >&2
"$slipway" plan --repo "$repo" --base HEAD~1 --head HEAD
