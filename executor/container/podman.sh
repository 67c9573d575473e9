#!/usr/bin/env bash
# podman with the flags this kind of machine needs (docs/PRODUCTION.md, "Containers"): runc instead of crun (crun
# rejects nested cgroup layouts) and cgroupfs instead of systemd. Every other script calls podman through this.
# Usage: executor/container/podman.sh <podman args...>
set -euo pipefail
exec podman --runtime runc --cgroup-manager=cgroupfs "$@"
