#!/usr/bin/env bash
# Installs what the build, tests and demo need on Debian, only when missing:
# Fyne's X11/GL headers, Xvfb, gnome-keyring, dbus, Chromium, tmux, and
# PostgreSQL (the store tests start private clusters with its initdb/pg_ctl).
set -euo pipefail
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in gcc pkg-config libgl1-mesa-dev xorg-dev libxkbcommon-dev xvfb x11-utils xdotool \
         libgl1-mesa-dri gnome-keyring dbus dbus-x11 libsecret-tools chromium tmux imagemagick curl ca-certificates \
         postgresql; do
  have_pkg "$p" || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages: ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "installing: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
