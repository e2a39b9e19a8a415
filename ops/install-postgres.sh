#!/usr/bin/env bash
# PostgreSQL's server binaries, for the journal's tests against a real server (the tests start
# a private cluster of their own on a Unix socket). Idempotent; needs root.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
ls /usr/lib/postgresql/*/bin/postgres
