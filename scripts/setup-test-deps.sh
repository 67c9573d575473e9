#!/usr/bin/env bash
# Set-up step of `npm test`: installs the Debian packages the test suite needs, if missing, and says so
# (like `playwright install --with-deps`). Needs root (or sudo) only when something is missing.
# The list grows with the suite; each entry is "<command to probe> <Debian package>"; a probe starting with / is a
# file that the package installs (for packages without a command).
set -euo pipefail
REQUIRED=(
  "chromium chromium"      # WebRTC e2e: real headless browser (playwright-core drives /usr/bin/chromium)
  "espeak-ng espeak-ng"    # WebRTC e2e: speaks the fake-microphone WAV; ML suite: test utterances and the espeak TTS engine
  "pocketsphinx_batch pocketsphinx"                               # ML suite: the pocketsphinx STT engine
  "/usr/share/pocketsphinx/model/en-us/en-us/mdef pocketsphinx-en-us"  # ML suite: its US English model
  "kubectl kubernetes-client"                                     # production suite: renders executor/k8s with kubectl kustomize
)
missing=()
for entry in "${REQUIRED[@]+"${REQUIRED[@]}"}"; do
  read -r probe pkg <<<"$entry"
  if [[ "$probe" == /* ]]; then [ -e "$probe" ] || missing+=("$pkg"); else command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg"); fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[setup-test-deps] system packages: all present (${#REQUIRED[@]} required)"
  exit 0
fi
echo "[setup-test-deps] installing missing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "[setup-test-deps] not root and no sudo: install these packages first: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
