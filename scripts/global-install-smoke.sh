#!/usr/bin/env bash
# What a user does after `npm install -g matric-backup`: the command on PATH prints its
# version, lists its plugins, backs up a folder to a local destination and restores it.
# Usage: scripts/global-install-smoke.sh [matric-backup command]   (default: the one on PATH)
set -euo pipefail
cli=${1:-matric-backup}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cli" --version
mkdir -p "$work/data/sub"
printf 'alpha\n' >"$work/data/a.txt"
head -c 300000 /dev/urandom >"$work/data/sub/b.bin"
cat >"$work/backup.yaml" <<YAML
backup:
  state_dir: state
  sources: [{name: data, type: directory, path: ./data}]
  destinations:
    - {name: disk, type: local, path: ./store}
YAML
"$cli" plugins -c "$work/backup.yaml"
"$cli" run -c "$work/backup.yaml"
"$cli" verify --latest -c "$work/backup.yaml"
"$cli" restore latest --to "$work/restored" -c "$work/backup.yaml"
diff -r "$work/data" "$work/restored/data"
echo "global install: run and restore round trip ok"
