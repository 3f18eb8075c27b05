# Shared by scripts/serve, scripts/stack and scripts/test: a Python 3.11 virtualenv in
# .venv holding requirements-dev.txt, i.e. the runtime (requirements.txt) and the test
# tools, so the tests and the embedded default run in one environment (reinstalled when
# either file changes). The container image installs requirements.txt alone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  # Installs Debian packages the first time a script needs them.
  echo "==> installing $* (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

browser_packages_ensure() {
  # The browser tests (tests/browser/) drive Debian's Chromium with Playwright, which
  # never downloads a browser of its own here; the CJK fonts draw the pages' Chinese.
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
}

ensure_venv() {
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        python="$candidate"; break
      fi
    done
  fi
  if [ -z "$python" ]; then
    apt_install python3.11 python3.11-venv
    python=python3.11
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $python"
    "$python" -m venv .venv
  fi
  local stamp=.venv/.requirements.sha256
  local want
  want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing requirements-dev.txt (with requirements.txt) into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    echo "$want" > "$stamp"
  fi
}
