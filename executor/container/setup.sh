#!/usr/bin/env bash
# Set-up step of `npm run test:container`: installs podman, runc and debootstrap when missing (Debian, root or
# sudo), builds the local base image when missing, then (re)builds the executor image (layer cache: only changed
# stages rebuild; the first build compiles isolated-vm, ~2–4 min on 2 cores).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
missing=()
for entry in "podman podman" "runc runc" "debootstrap debootstrap"; do
  read -r probe pkg <<<"$entry"
  command -v "$probe" >/dev/null 2>&1 || [ -x "/usr/sbin/$probe" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[container-setup] installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "[container-setup] not root and no sudo: apt-get install -y ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
export PATH="$PATH:/usr/sbin:/sbin"
start=$(date +%s)
"$here/build.sh" "${REMOTEMEDIA_TEST_IMAGE:-localhost/remotemedia-executor:test}"
echo "[container-setup] image ready in $(( $(date +%s) - start )) s"
echo "$(( $(date +%s) - start ))" > "${TMPDIR:-/tmp}/remotemedia-image-build-seconds"
