#!/usr/bin/env bash
# Runs "$@" inside a private D-Bus session with an unlocked gnome-keyring,
# so go-keyring reaches a real Secret Service.
set -euo pipefail
if [ -z "${PORTHOLE_IN_KEYRING:-}" ]; then
  export PORTHOLE_IN_KEYRING=1
  exec dbus-run-session -- "$0" "$@"
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
eval "$(printf 'porthole\n' | gnome-keyring-daemon --unlock --components=secrets)" >/dev/null
export GNOME_KEYRING_CONTROL PORTHOLE_KEYRING=1
exec "$@"
