#!/usr/bin/env bash
# Install Harewatch into ./.venv. With --dev also the test tools and Debian's
# chromium (for the real-browser tests; never `playwright install`).
set -euo pipefail
cd "$(dirname "$0")/.."
dev=0
[ "${1:-}" = "--dev" ] && dev=1

if [ "$dev" = 1 ] && ! [ -x /usr/bin/chromium ]; then
  echo "installing Debian chromium for the browser tests" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
extra=""; [ "$dev" = 1 ] && extra="[dev]"
.venv/bin/python -m pip install -q -e ".${extra}" 2>&1 | grep -vE '^WARNING: Location|^\s*$' || true
.venv/bin/python -c "import geo, dashboard; print('harewatch', geo.__version__, 'installed in .venv')"
