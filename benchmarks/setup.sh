#!/usr/bin/env bash
# Owns the load benchmark's one system dependency: wrk (benchmarks/load.py falls back to a
# slower built-in Python generator without it). Installs it with apt-get when it is missing
# and root or sudo is available; otherwise says how. Idempotent.
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
  echo "wrk present: $(command -v wrk)"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "wrk is missing and neither root nor password-less sudo is available:" >&2
  echo "  install it (apt-get install -y wrk), or run load.py with --generator python" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "wrk is missing and this is not an apt system: install wrk, or use --generator python" >&2
  exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk
echo "wrk installed: $(command -v wrk)"
