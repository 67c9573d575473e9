#!/usr/bin/env bash
# Builds the executor image with podman from a staged copy of the files the Dockerfile needs (so node_modules,
# dist and test output never enter the context). Builds the local base image first when it is missing.
# Usage: executor/container/build.sh [image]      (default image: localhost/remotemedia-executor:dev)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
IMAGE="${1:-localhost/remotemedia-executor:dev}"
BASE_IMAGE="${REMOTEMEDIA_BASE_IMAGE:-localhost/node-base:20}"
"$here/build-base.sh"
ctx="$(mktemp -d /var/tmp/remotemedia-ctx.XXXXXX)"
trap 'rm -rf "$ctx"' EXIT
(cd "$root" && cp -a package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json src executor bin proto assets "$ctx/")
echo "[build] $IMAGE from $BASE_IMAGE"
"$here/podman.sh" build --format docker --network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
  --build-arg "BASE=$BASE_IMAGE" -f "$ctx/executor/Dockerfile" -t "$IMAGE" "$ctx"
