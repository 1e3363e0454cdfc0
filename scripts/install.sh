#!/usr/bin/env bash
# Install Harewatch into ./.venv. With --dev also the test tools and Debian's
# chromium (for the real-browser tests; never `playwright install`).
#
# Quiet on success (one line); on failure pip's whole output is printed and the
# script exits non-zero. setuptools' deprecation warnings are silenced
# (PYTHONWARNINGS reaches the build backend's process), not errors.
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

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
quiet_pip() {
  # pip -q, warnings off; the full log only when pip fails
  if ! PYTHONWARNINGS=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/python -m pip "$@" -q >"$log" 2>&1; then
    echo "install.sh: 'pip $*' failed:" >&2
    cat "$log" >&2
    exit 1
  fi
}

[ -x .venv/bin/python ] || python3 -m venv .venv
quiet_pip install --upgrade pip
extra=""; [ "$dev" = 1 ] && extra="[dev]"
quiet_pip install -e ".${extra}"
# byte-compile the sources as a wheel install would: where PYTHONDONTWRITEBYTECODE is set,
# every command would otherwise compile them again (about 0.1 s per start)
.venv/bin/python -m compileall -q geo dashboard >/dev/null
.venv/bin/python -c "import geo, dashboard; print('harewatch', geo.__version__, 'installed in .venv')"
