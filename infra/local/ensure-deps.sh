#!/usr/bin/env bash
# Makes a fresh Debian machine ready for `npm start` and `npm test`: installs missing Debian
# packages (infra/local/debian-packages.txt) and the node modules. Idempotent, and fast when
# everything is present (one dpkg-query, two stat calls). The one place Labnet installs Debian
# packages: `--debian-only` (what devstack runs when started on its own) skips the node modules.
set -euo pipefail
debian_only=0
[[ "${1:-}" == "--debian-only" ]] && debian_only=1

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

log() { printf '[ensure-deps] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' infra/local/debian-packages.txt | grep -v '^$')
missing=()
if [[ "${LABNET_SKIP_APT:-0}" != "1" ]]; then
  if ! command -v dpkg-query >/dev/null 2>&1; then
    log "dpkg-query not found: this script supports Debian and its derivatives; install these yourself: ${wanted[*]}"
    exit 1
  fi
  installed="$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${wanted[@]}" 2>/dev/null || true)"
  for pkg in "${wanted[@]}"; do
    grep -qx "$pkg installed" <<<"$installed" || missing+=("$pkg")
  done
fi

if ((${#missing[@]} > 0)); then
  if [[ "$(id -u)" != "0" ]]; then
    log "missing Debian packages: ${missing[*]}; run as root, or: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  # Keep the distribution's own postgresql/redis services from starting: Labnet runs private
  # servers on unix sockets. Only when the machine has no policy of its own.
  policy=/usr/sbin/policy-rc.d
  placed_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# Placed by Labnet while it installs packages.\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    placed_policy=1
    trap '[[ $placed_policy == 1 ]] && rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" </dev/null
  if ((placed_policy)); then
    rm -f "$policy"
    placed_policy=0
  fi
fi

# --- Node modules ----------------------------------------------------------------------------
((debian_only)) && exit 0
# node_modules/.package-lock.json is npm's record of the last install; it is newer than
# package-lock.json whenever the tree is up to date.
stamp=node_modules/.package-lock.json
if [[ ! -d node_modules || ! -e "$stamp" || (-e package-lock.json && package-lock.json -nt "$stamp") ]]; then
  if [[ -e package-lock.json ]]; then
    log "installing node modules (npm ci)"
    # npm ci installs exactly the committed lockfile and refuses one that disagrees with a
    # package.json. That refusal is the point: falling back to npm install would rewrite
    # package-lock.json in the tree and test something nobody committed.
    if ! npm ci --no-audit --no-fund </dev/null; then
      log "npm ci failed (above). If it says package.json and package-lock.json are not in sync, the committed lockfile drifted: run npm install, check the diff of package-lock.json and commit it with the package.json change."
      exit 1
    fi
  else
    log "installing node modules (npm install)"
    npm install --no-audit --no-fund </dev/null
  fi
fi
