#!/usr/bin/env bash
# Builds the local base image localhost/node-base:20 when it is missing: a Debian bookworm minbase root file system
# (debootstrap) with this machine's Node.js 20, npm and CA bundle, imported into podman. Needed only where no image
# registry is reachable; elsewhere the Dockerfile's default BASE=node:20-bookworm-slim is pulled as usual.
# Usage: executor/container/build-base.sh [--force]     (root; ~60 s)
set -euo pipefail
IMAGE="${REMOTEMEDIA_BASE_IMAGE:-localhost/node-base:20}"
here="$(cd "$(dirname "$0")" && pwd)"
podman_() { "$here/podman.sh" "$@"; }
if [ "${1:-}" != "--force" ] && podman_ image exists "$IMAGE"; then
  echo "[build-base] $IMAGE present"
  exit 0
fi
# The Debian mirror apt already uses (deb822 or one-line sources).
mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -oE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' | head -1 | awk '{print $2}' || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
node_bin="$(command -v node)"
npm_dir="$(dirname "$(readlink -f "$(command -v npm)")")/.."
case "$("$node_bin" --version)" in v20.*) ;; *) echo "[build-base] host node must be v20 (found $("$node_bin" --version))" >&2; exit 1 ;; esac
work="$(mktemp -d /var/tmp/remotemedia-base.XXXXXX)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
echo "[build-base] debootstrap minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$(readlink -f "$npm_dir")" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
mkdir -p "$root/etc/ssl/certs" "$root/usr/local/etc" "$root/usr/local/share/host-ca"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
# A copy Debian's ca-certificates package does not own: installing it in a build stage regenerates
# /etc/ssl/certs/ca-certificates.crt without the host's extra CAs (e.g. a proxy's), which would break npm.
cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/host-ca/ca-certificates.crt"
# npm reads $PREFIX/etc/npmrc; with node in /usr/local that is /usr/local/etc/npmrc.
echo "cafile=/usr/local/share/host-ca/ca-certificates.crt" >"$root/usr/local/etc/npmrc"
# Node headers for native add-ons (isolated-vm): node-gyp would download them from nodejs.org otherwise.
node_include="$(dirname "$node_bin")/../include/node"
if [ -f "$node_include/common.gypi" ]; then
  mkdir -p "$root/usr/local/include"
  cp -a "$(readlink -f "$node_include")" "$root/usr/local/include/node"
  echo "nodedir=/usr/local" >>"$root/usr/local/etc/npmrc"
else
  echo "[build-base] warning: no Node headers at $node_include; native add-ons will try to download them" >&2
fi
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
echo "[build-base] importing $IMAGE"
tar -C "$root" -cf "$work/base.tar" .
podman_ import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]' "$work/base.tar" "$IMAGE" >/dev/null
echo "[build-base] $IMAGE built"
