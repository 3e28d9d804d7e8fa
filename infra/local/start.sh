#!/usr/bin/env bash
# `npm start`: make sure the machine has what Labnet needs, then run the local stack
# (services/devstack/src/main.ts; see infra/README.md for its environment variables).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
bash infra/local/ensure-deps.sh
# ensure-deps.sh has just checked the Debian packages; skip devstack's second look.
export LABNET_SKIP_APT="${LABNET_SKIP_APT:-1}"
exec node --import tsx services/devstack/src/main.ts
