#!/usr/bin/env bash
# Installs what coroner needs on Debian 12 (run as root): gdb, Debian's python3.11 with its debug
# info (the fixture and sample cores come from it), glibc's debug info, Chromium for the browser
# test, debootstrap (the chroots with Debian's python2.7, 3.9 and 3.13 for the other versions'
# fixture cores: made by make-cores, or `npm run chroots`, and cached in /var/cache/coroner/chroots);
# then the npm packages and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
packages=(gdb python3.11 python3.11-dbg libc6-dbg chromium time libgoogle-perftools4 libjemalloc2 debootstrap)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# python3.11-dbg only matches python3.11 of the same version: upgrade them together.
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
[ ${#missing[@]} -eq 0 ] || echo "setup: installed ${missing[*]}"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
