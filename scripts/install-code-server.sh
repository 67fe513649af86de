#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3, the newest that runs on Node 20) into
# .vscode-test/code-server, offline apart from the npm registry. Its Debian prerequisites (build tools
# for its native modules, ripgrep to stand in for a GitHub download in @vscode/ripgrep's postinstall)
# are installed by scripts/test-setup.js, which calls this script when code-server is missing.
# Idempotent: skipped when that version is already there. Safe to run as root in CI.
# Usage: bash scripts/install-code-server.sh [DEST_DIR]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/.vscode-test/code-server}"
CS_VERSION=4.100.3
# @vscode/ripgrep version pinned in code-server 4.100.3's lib/vscode/npm-shrinkwrap.json, and the asset it fetches.
RG_PKG_VERSION=1.15.11
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

log() { echo "[install-code-server] $*"; }

# Debian's build tools and ripgrep come first: `node scripts/test-setup.js` installs them (as root).
if [ ! -x /usr/bin/rg ] || ! command -v make >/dev/null || ! command -v pkg-config >/dev/null; then
  echo "[install-code-server] needs Debian's build-essential, pkg-config, libkrb5-dev and ripgrep: run \`node scripts/test-setup.js\` as root first" >&2
  exit 1
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
