#!/usr/bin/env bash
# Installs everything the build and the test servers need, idempotently: quick
# when it is all there already. Safe on a fresh Debian machine with Node 20 + npm.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# cc, setpriv, mount: the walk tests compile a tiny rename-race helper, run it as nobody, mount a tmpfs.
# faketime: the shared-destination tests run the CLI under a fixed or wrong wall clock.
# systemd-analyze: the `systemd` command's tests verify the units it writes (systemd need not be PID 1).
# jq: the incremental-restore test runs the by-hand chain restore of docs/restore.md.
# setfacl: the restore writer is tested under a folder with a default ACL (which replaces the umask).
for pair in smbd:samba smbclient:smbclient sshd:openssh-server rsync:rsync zstd:zstd age:age gpg:gnupg tar:tar cc:gcc setpriv:util-linux mount:mount faketime:faketime systemd-analyze:systemd jq:jq setfacl:acl; do
  bin=${pair%%:*}; pkg=${pair#*:}
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then need_apt+=("$pkg"); fi
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v pnpm >/dev/null 2>&1 || ! pnpm --version | grep -q '^10\.'; then
  echo "setup: installing pnpm 10"
  npm install -g pnpm@10 >/dev/null 2>&1
fi

export TURBO_TELEMETRY_DISABLED=1 CI="${CI:-true}"
pnpm install --frozen-lockfile --reporter=silent
pnpm build
