#!/usr/bin/env bash
# Builds the sidecar of another commit (BASELINE_REV, default HEAD~1) into bench/.build/, so that
# `make bench` measures it beside the current binary in the same run. Prints the binary's path.
set -euo pipefail
GO=${GO:-go}
rev=${BASELINE_REV:-HEAD~1}
root=$(git rev-parse --show-toplevel)
out="$root/bench/.build/baseline-awsflow-sts"
commit=$(git -C "$root" rev-parse --verify --quiet "$rev^{commit}") || { echo "bench-baseline: no commit $rev" >&2; exit 1; }
tree=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git -C "$root" worktree add --quiet --detach "$tree" "$commit"
(cd "$tree" && CGO_ENABLED=0 "$GO" build -trimpath -o "$out" ./sidecar/cmd/awsflow-sts)
echo "$out"
