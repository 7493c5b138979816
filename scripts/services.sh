#!/usr/bin/env bash
# Starts what Slipway's tests need and is not started by the tests themselves:
# PostgreSQL on 127.0.0.1:5432 with a `slipway_test` database. (The AWS emulator is started by
# the tests that use it, on a free loopback port.)
set -euo pipefail

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "services: installing PostgreSQL" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if ! pg_up; then
  echo "services: starting PostgreSQL" >&2
  if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql/*/main >/dev/null 2>&1; then
    ver="$(ls /etc/postgresql | sort -V | tail -n1)"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! pg_up; then
  echo "services: PostgreSQL is not reachable on 127.0.0.1:5432" >&2
  exit 1
fi
psql_as() {
  for u in postgres root "$(id -un)"; do
    if psql -h 127.0.0.1 -U "$u" -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
      echo "$u"; return 0
    fi
  done
  return 1
}
if user="$(psql_as)"; then
  if [[ "$(psql -h 127.0.0.1 -U "$user" -d postgres -Atqc "select 1 from pg_database where datname = 'slipway_test'")" != 1 ]]; then
    psql -h 127.0.0.1 -U "$user" -d postgres -qc 'create database slipway_test' >/dev/null
  fi
  echo "services: PostgreSQL ready (database slipway_test)" >&2
else
  echo "services: cannot log in to PostgreSQL on 127.0.0.1:5432" >&2
  exit 1
fi
