#!/usr/bin/env bash
# Installs what the end-to-end tests need, offline apart from apt and the npm registry:
#   - Debian packages: chromium (headless browser that drives the workbench), libkrb5-dev +
#     build-essential + python3 + pkg-config (code-server's native modules), ripgrep (replaces a
#     GitHub download in @vscode/ripgrep's postinstall);
#   - code-server 4.100.3 (VS Code 1.100.3, the newest that runs on Node 20) into .vscode-test/code-server.
# Idempotent: every step is skipped when its result is already present. Safe to run as root in CI.
# Usage: bash scripts/install-code-server.sh [DEST_DIR]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/.vscode-test/code-server}"
CS_VERSION=4.100.3
# @vscode/ripgrep version pinned in code-server 4.100.3's lib/vscode/npm-shrinkwrap.json, and the asset it fetches.
RG_PKG_VERSION=1.15.11
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

log() { echo "[install-code-server] $*"; }

# ---- apt packages ---------------------------------------------------------------------------
missing_apt=()
[ -x /usr/bin/chromium ] || missing_apt+=(chromium)
[ -x /usr/bin/rg ] || missing_apt+=(ripgrep)
for pkg in libkrb5-dev build-essential python3 pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing_apt+=("$pkg")
done
if [ "${#missing_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "[install-code-server] missing Debian packages: ${missing_apt[*]}; run as root or: sudo apt-get install -y ${missing_apt[*]}" >&2
    exit 1
  fi
  log "apt-get install ${missing_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing_apt[@]}" >/dev/null
fi

# ---- code-server ----------------------------------------------------------------------------
CS_BIN="$DEST/node_modules/.bin/code-server"
installed_version() { node -e "try{console.log(require('$DEST/node_modules/code-server/package.json').version)}catch{}" 2>/dev/null; }
if [ -x "$CS_BIN" ] && [ "$(installed_version)" = "$CS_VERSION" ]; then
  log "code-server $CS_VERSION already in $DEST"
  exit 0
fi

# Seed @vscode/ripgrep's download cache from Debian's rg so its postinstall never goes to api.github.com.
export TMPDIR="$ROOT/.vscode-test/tmp"
mkdir -p "$TMPDIR"
RG_CACHE="$TMPDIR/vscode-ripgrep-cache-$RG_PKG_VERSION"
mkdir -p "$RG_CACHE"
if [ ! -s "$RG_CACHE/$RG_ASSET" ]; then
  staging="$(mktemp -d)"
  cp /usr/bin/rg "$staging/rg"
  tar -C "$staging" -czf "$RG_CACHE/$RG_ASSET" rg
  rm -rf "$staging"
fi

# node-pty's postinstall runs `npx node-gyp`; npx must not prompt (a user ~/.npmrc may say yes=false).
export npm_config_yes=true
# Keep code-server from writing under ~ during its postinstall.
export XDG_CONFIG_HOME="$ROOT/.vscode-test/xdg/config" XDG_DATA_HOME="$ROOT/.vscode-test/xdg/data"

mkdir -p "$DEST"
cd "$DEST"
[ -f package.json ] || echo '{"name":"gradient-lens-code-server-host","private":true}' > package.json
log "npm install code-server@$CS_VERSION into $DEST (about a minute)"
# --unsafe-perm: npm 11 calls it unknown but still exports npm_config_unsafe_perm=true, which
# code-server's postinstall requires when running as root.
npm install --no-audit --no-fund --save-exact --unsafe-perm "code-server@$CS_VERSION"
"$CS_BIN" --version
