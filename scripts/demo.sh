#!/usr/bin/env bash
# make demo: start pomerium-server --dev, sign in through the CLI's login
# flow, list the routes, open a TCP tunnel to the echo route by its name
# (server and CA remembered) and push bytes through it, show the status. Needs bin/ from `make build`; everything is torn down on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
for b in pomerium-server pomerium-cli; do
  [ -x "$BIN/$b" ] || { echo "demo: $BIN/$b missing; run make build" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/porthole-demo.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
step() { printf '\n==> %s\n' "$*" >&2; }

step "building the demo helper (headless browser for sign-in, echo check)"
go build -o "$work/demohelper" ./scripts/demohelper
helper="$work/demohelper"

step "starting pomerium-server --dev (dev dir $work/dev)"
port=$("$helper" freeport)
addr="127.0.0.1:$port"
"$BIN/pomerium-server" --dev --dev-dir "$work/dev" --address "$addr" \
  --dev-auto-login dev@example.com >"$work/server.log" 2>&1 &
pids+=($!)
ca="$work/dev/ca.pem"
export DEMO_CA="$ca"
for _ in $(seq 1 300); do
  if [ -s "$ca" ] && "$helper" browse "https://$addr/healthz" 2>/dev/null; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then cat "$work/server.log" >&2; echo "demo: server exited" >&2; exit 1; fi
  sleep 0.1
done
"$helper" browse "https://$addr/healthz" 2>/dev/null || { cat "$work/server.log" >&2; echo "demo: server not healthy" >&2; exit 1; }
sed -n '1,6p' "$work/server.log" >&2

# The "browser" the CLI opens: follows the sign-in URL to its callback.
cat >"$work/browser" <<SH
#!/usr/bin/env bash
exec "$helper" browse "\$@"
SH
chmod +x "$work/browser"

export XDG_CONFIG_HOME="$work/cli-config" XDG_CACHE_HOME="$work/cli-cache"
step "pomerium-cli routes list https://$addr --alternate-ca-path $ca"
"$BIN/pomerium-cli" routes list "https://$addr" --alternate-ca-path "$ca" --browser-cmd "$work/browser"

lport=$("$helper" freeport)
step "pomerium-cli tcp echo --listen 127.0.0.1:$lport (a route name: no URL, no TLS flags, the server is remembered)"
"$BIN/pomerium-cli" tcp echo --listen "127.0.0.1:$lport" --browser-cmd "$work/browser" \
  >"$work/tcp.log" 2>&1 &
pids+=($!)

msg="hello through the porthole $(date +%s)"
step "sending '$msg' to 127.0.0.1:$lport (the echo upstream must send it back)"
if ! got=$("$helper" echo "127.0.0.1:$lport" "$msg"); then
  cat "$work/tcp.log" >&2
  echo "demo: FAILED: the tunnel did not echo" >&2
  exit 1
fi
echo "got back: $got"

step "pomerium-cli status (who is signed in where, until when, and does the server accept it)"
"$BIN/pomerium-cli" status

# The management API (Zero API shape): --dev wrote an API user token.
base="https://$addr/api/v0"
step "management API: exchange $work/dev/api-user-token for an ID token (POST $base/token)"
printf '{"refreshToken":"%s"}' "$(cat "$work/dev/api-user-token")" >"$work/token.json"
idt=$(curl -sS --fail-with-body --cacert "$ca" -H 'Content-Type: application/json' -d @"$work/token.json" "$base/token" |
  "$helper" jsonget idToken)
# The ID token goes in a header file, not on the command line (ps shows argv).
(umask 077; printf 'Authorization: Bearer %s\n' "$idt" >"$work/auth.hdr")
api() { curl -sS --fail-with-body --cacert "$ca" -H @"$work/auth.hdr" -H 'Content-Type: application/json' "$@"; }
org=$(api "$base/organizations" | "$helper" jsonget 0.id)
ns=$(api "$base/organizations/$org/clusters" | "$helper" jsonget 0.namespaceId)
echo_to=$(api "$base/organizations/$org/routes" | "$helper" jsonget name=echo.to.0)
step "creating a policy (dev@example.com only) and a tcp route api-echo.internal:7100 -> $echo_to"
pol=$(api -X POST "$base/organizations/$org/policies" -d '{"namespaceId":"'"$ns"'","name":"dev only","enforced":false,
  "ppl":{"allow":{"and":[{"email":{"is":"dev@example.com"}}]}},"description":"","explanation":"","remediation":""}' |
  "$helper" jsonget id)
api -X POST "$base/organizations/$org/routes" -d '{"namespaceId":"'"$ns"'","name":"api-echo",
  "from":"tcp+https://'"$addr"'/api-echo.internal:7100","to":["'"$echo_to"'"],"policyIds":["'"$pol"'"]}' >"$work/route.json"
echo "created route $("$helper" jsonget id <"$work/route.json") (no restart, no apply step)"

lport2=$("$helper" freeport)
dest2="tcp+https://$addr/api-echo.internal:7100"
step "pomerium-cli tcp $dest2 --listen 127.0.0.1:$lport2"
"$BIN/pomerium-cli" tcp "$dest2" --listen "127.0.0.1:$lport2" --alternate-ca-path "$ca" --browser-cmd "$work/browser" \
  >"$work/tcp2.log" 2>&1 &
pids+=($!)
msg2="hello through a route made by the API $(date +%s)"
if ! got2=$("$helper" echo "127.0.0.1:$lport2" "$msg2"); then
  cat "$work/tcp2.log" >&2
  echo "demo: FAILED: the API route did not echo" >&2
  exit 1
fi
echo "got back: $got2"
step "demo OK: signed in, listed routes, carried bytes through a CONNECT tunnel, created a route through the API and used it"
