#!/usr/bin/env bash
# Debian's chromium for the end-to-end tests (the reports now, the console later).
# Idempotent: nothing to do when it is installed. Needs root (CI and the dev machines are).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version
