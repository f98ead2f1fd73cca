#!/usr/bin/env bash
# Owns the load benchmark's two outside tools. Idempotent.
#  - wrk, the load generator (benchmarks/load.py falls back to a slower built-in Python
#    generator without it): installed with apt-get when missing and root or sudo is available.
#  - Prism 5 (npm @stoplight/prism-cli), the static mock load.py compares against: installed
#    with npm into benchmarks/.prism (git-ignored); without npm, load.py skips Prism and says so.
# Exits non-zero when a tool could not be installed (after trying both).
set -uo pipefail
cd "$(dirname "$0")"
status=0

install_wrk() {
  if command -v wrk >/dev/null 2>&1; then
    echo "wrk present: $(command -v wrk)"
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      echo "wrk is missing and neither root nor password-less sudo is available:" >&2
      echo "  install it (apt-get install -y wrk), or run load.py with --generator python" >&2
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "wrk is missing and this is not an apt system: install wrk, or use --generator python" >&2
    return 1
  fi
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk || return 1
  echo "wrk installed: $(command -v wrk)"
}

install_prism() {
  if [ -x .prism/node_modules/.bin/prism ]; then
    echo "prism present: benchmarks/.prism ($(.prism/node_modules/.bin/prism --version))"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is missing: Prism not installed (load.py will skip the Prism comparison); install Node.js and npm" >&2
    return 1
  fi
  npm install --silent --no-audit --no-fund --prefix .prism @stoplight/prism-cli@5 || return 1
  echo "prism installed: benchmarks/.prism ($(.prism/node_modules/.bin/prism --version))"
}

install_wrk || status=1
install_prism || status=1
exit $status
