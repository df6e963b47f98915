#!/usr/bin/env bash
# The browser test of `mautic-gdpr serve` (scripts/test.sh runs it):
#
#   bash tests/browser/run.sh BUILD_DIR MARIADB_SOCKET [SCREENSHOT_DIR]
#
# Creates a synthetic Mautic in a new database on the given (private, test) MariaDB server,
# sweeps it, starts `mautic-gdpr serve` on a free loopback port with two users (`support` with
# every role, `helpdesk` with lookup only), and runs lookup.test.mjs in headless Chromium (/usr/bin/chromium, driven by playwright-core from
# package-lock.json via `npm ci`). Screenshots go to SCREENSHOT_DIR (default
# BUILD_DIR/screenshots). Afterwards the server is stopped with SIGTERM (it must exit 0), its log
# is checked for the looked-up addresses (they must not be there), the erased contact is
# checked in the database (processed on request, its address gone), and the database is dropped.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
BUILD=$(cd "${1:?usage: run.sh BUILD_DIR MARIADB_SOCKET [SCREENSHOT_DIR]}" && pwd -P)
SOCKET=${2:?usage: run.sh BUILD_DIR MARIADB_SOCKET [SCREENSHOT_DIR]}
SHOTS=${3:-$BUILD/screenshots}
MGDPR="$BUILD/mautic-gdpr"
FIXTURE="$BUILD/mautic-gdpr-fixture"
DB="mgdpr_browser_$$"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mgdpr-browser.XXXXXX")
serve_pid=""

log() { printf 'browser-test: %s\n' "$*"; }
sql() { mariadb --no-defaults --socket="$SOCKET" -uroot "$@"; }

cleanup() {
  if [[ -n "$serve_pid" ]] && kill -0 "$serve_pid" 2>/dev/null; then
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  sql -e "DROP DATABASE IF EXISTS \`$DB\`" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in node npm; do
  command -v "$tool" >/dev/null || { log "$tool is missing (scripts/install-deps.sh installs it)"; exit 1; }
done
[[ -x /usr/bin/chromium || -n "${MGDPR_CHROMIUM:-}" ]] ||
  { log "/usr/bin/chromium is missing (scripts/install-deps.sh installs it)"; exit 1; }

rm -f "$SHOTS"/*.png  # only this run's screenshots remain

log "npm ci (playwright-core, as pinned in package-lock.json)"
(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)

log "synthetic Mautic in database $DB"
"$FIXTURE" --socket "$SOCKET" --database "$DB" --contacts 200 \
  --fixtures-dir "$ROOT/tests/fixtures" >/dev/null
# Contact 10 is unsubscribed (every 10th contact); remember what the sweep will pseudonymize.
email=$(sql -N -B "$DB" -e 'SELECT email FROM leads WHERE id = 10')
city=$(sql -N -B "$DB" -e 'SELECT city FROM leads WHERE id = 10')
# Contact 33 is contactable: the page finds it live, exports it and erases it on request.
live_id=33
live_email=$(sql -N -B "$DB" -e "SELECT email FROM leads WHERE id = $live_id")

"$MGDPR" keygen --out "$WORK/hmac.key" >/dev/null
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/webhook-secret"
chmod 600 "$WORK/webhook-secret"
password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
user_line=$(printf '%s\n' "$password" | "$MGDPR" passwd --user support)
helpdesk_line=$(printf '%s\n' "$password" | "$MGDPR" passwd --user helpdesk)
cat >"$WORK/config.toml" <<EOF
[database]
socket = "$SOCKET"
name = "$DB"
user = "root"

[hashing]
key_file = "$WORK/hmac.key"

[policy]
default = "delete"

[policy.fields]
email = "hash"
mobile = "hash"
country = "keep"
city = "keep"

[server]
listen = "127.0.0.1:0"
secret_file = "$WORK/webhook-secret"

mautic_url = "https://mautic.example.org"

[server.users]
$user_line
$helpdesk_line

[server.roles]
support = ["lookup", "export", "erase"]
# helpdesk is not listed: lookup only
EOF
"$MGDPR" sweep -q --config "$WORK/config.toml"

"$MGDPR" serve --config "$WORK/config.toml" 2>"$WORK/serve.log" &
serve_pid=$!
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*event=listening .*port=\([0-9]*\).*/\1/p' "$WORK/serve.log" | head -1)
  [[ -n "$port" ]] && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$port" ]]; then
  log "serve did not start:"
  cat "$WORK/serve.log"
  exit 1
fi
log "serve listening on 127.0.0.1:$port"

status=0
MGDPR_BASE_URL="http://127.0.0.1:$port" MGDPR_USER=support MGDPR_PASSWORD="$password" \
  MGDPR_LOOKUP_ONLY_USER=helpdesk MGDPR_PROCESSED_EMAIL="$email" MGDPR_KEPT_VALUE="$city" \
  MGDPR_LIVE_EMAIL="$live_email" MGDPR_LIVE_ID="$live_id" MGDPR_SCREENSHOT_DIR="$SHOTS" \
  node "$HERE/lookup.test.mjs" || status=1

kill -TERM "$serve_pid"
serve_status=0
wait "$serve_pid" || serve_status=$?
serve_pid=""
if ((serve_status != 0)); then
  log "serve exited with $serve_status after SIGTERM (expected 0)"
  status=1
fi
if grep -qiF -- "$email" "$WORK/serve.log" || grep -qiF -- "$live_email" "$WORK/serve.log" ||
  grep -qF -- "$password" "$WORK/serve.log"; then
  log "the server log contains a looked-up address or the password"
  status=1
fi
erased=$(sql -N -B "$DB" -e "SELECT CONCAT(g.source, ' ', l.email = '$live_email') FROM gdpr_contacts g
  JOIN leads l ON l.id = g.contact_id WHERE g.contact_id = $live_id")
if [[ "$erased" != "request 0" ]]; then
  log "contact $live_id is not erased on request (source and address still there: '$erased')"
  status=1
fi
if ((status != 0)); then
  log "server log:"
  cat "$WORK/serve.log"
  exit 1
fi
log "ok; screenshots: $(cd "$SHOTS" && ls *.png | tr '\n' ' ')"
