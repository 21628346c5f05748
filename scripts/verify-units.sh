#!/usr/bin/env bash
# Checks deploy/systemd/*.{service,timer} with systemd-analyze verify, in a scratch root that
# holds the system's own units and a stand-in /opt/junkai/.venv/bin/junkai (this machine has no
# Junkai installed under /opt and no systemd as PID 1).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/opt/junkai/.venv/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
printf '#!/bin/sh\n' > "$root/opt/junkai/.venv/bin/junkai"
chmod +x "$root/opt/junkai/.venv/bin/junkai"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp deploy/systemd/junkai-* "$root/etc/systemd/system/"
systemd-analyze verify --root="$root" "$root"/etc/systemd/system/junkai-*
echo "systemd units OK: $(ls deploy/systemd | wc -l) files"
