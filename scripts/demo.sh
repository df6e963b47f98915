#!/usr/bin/env bash
# The project's demo (README):  bash scripts/demo.sh
#
# Installs missing packages, builds mautic-gdpr and mautic-gdpr-fixture into build/, starts a
# fresh private MariaDB server in build/demo-mariadb and walks through the tool on synthetic
# Mautic data. The server is stopped on exit, unless MGDPR_DEMO_KEEP=1 (then the script says
# how to connect and how to stop it). Scratch files (config, keys, outputs) go to build/demo/.
# Environment: MGDPR_DB_PORT (optional) makes the demo server listen on 127.0.0.1 too.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

JOBS=2
DB="$ROOT/scripts/mariadb-local.sh"
DEMO_DB_DIR="$ROOT/build/demo-mariadb"
DEMO_SOCKET="$DEMO_DB_DIR/mysqld.sock"
DEMO_WORK="$ROOT/build/demo"
DEMO_DB=mautic_demo
MGDPR="$ROOT/build/mautic-gdpr"
FIXTURE="$ROOT/build/mautic-gdpr-fixture"

step() { printf '\n==> %s\n' "$*"; }
# Show a command, then run it: the demo's output reads like a terminal session.
run() {
  printf '\n$ %s\n' "$*"
  "$@"
}
# SQL as root on the demo server, e.g.: sql "$DEMO_DB" -e 'SELECT COUNT(*) FROM leads'
sql() { mariadb --no-defaults --socket="$DEMO_SOCKET" -uroot "$@"; }

# Same configuration as scripts/test.sh, so both share build/ without reconfiguring.
configure() {
  local dir=$1 gen home
  shift
  if [[ -f "$dir/CMakeCache.txt" ]]; then
    gen=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$dir/CMakeCache.txt")
    home=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$dir/CMakeCache.txt")
    if [[ "$gen" != Ninja || "$home" != "$ROOT" ]]; then
      echo "demo.sh: $dir was configured for '$gen' in '$home'; starting it afresh"
      rm -rf "$dir"
    fi
  fi
  cmake -S "$ROOT" -B "$dir" -G Ninja "$@"
}

server_up=0
cleanup() {
  if ((server_up)); then
    if [[ "${MGDPR_DEMO_KEEP:-0}" == 1 ]]; then
      echo
      echo "demo.sh: server left running (MGDPR_DEMO_KEEP=1)"
      echo "  connect: bash scripts/mariadb-local.sh client build/demo-mariadb $DEMO_DB"
      echo "  stop:    bash scripts/mariadb-local.sh stop build/demo-mariadb"
    else
      bash "$DB" stop "$DEMO_DB_DIR" || true
    fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "dependencies"
bash "$ROOT/scripts/install-deps.sh" demo  # no test tools, no browser

step "build mautic-gdpr and mautic-gdpr-fixture"
configure build -DMGDPR_SANITIZE=OFF -DMGDPR_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$JOBS" --target mautic-gdpr mautic-gdpr-fixture

step "fresh private MariaDB server in build/demo-mariadb"
bash "$DB" stop "$DEMO_DB_DIR" >/dev/null
rm -rf "$DEMO_DB_DIR" "$DEMO_WORK"
mkdir -p "$DEMO_WORK"
server_up=1
bash "$DB" start "$DEMO_DB_DIR"

# Available to the steps below: $MGDPR $FIXTURE (binaries), $DEMO_SOCKET, $DEMO_DB (database
# name), $DEMO_WORK (scratch directory), run CMD... (echo + run), sql ARGS... (mariadb client).
# --- demo steps ---
step "a synthetic Mautic 5.1: 5,000 contacts, every 10th unsubscribed, the next bounced"
run "$FIXTURE" --socket "$DEMO_SOCKET" --database "$DEMO_DB" --contacts 5000 \
  --fixtures-dir "$ROOT/tests/fixtures"

step "a hash key and a config"
run "$MGDPR" keygen --out "$DEMO_WORK/hmac.key"
cat >"$DEMO_WORK/config.toml" <<EOF
[database]
socket = "$DEMO_SOCKET"
name = "$DEMO_DB"
user = "root"
table_prefix = ""

[hashing]
key_file = "$DEMO_WORK/hmac.key"

[trigger]
reasons = ["unsubscribed", "bounced"]
channels = ["email"]

[policy]
default = "delete"

[policy.fields]
email = "hash"
mobile = "hash"
country = "keep"
city = "keep"
EOF
echo "wrote $DEMO_WORK/config.toml"
CONFIG=(--config "$DEMO_WORK/config.toml")

step "check: the config against the live database"
run "$MGDPR" check "${CONFIG[@]}"

step "plan: what a sweep would change (nothing is written)"
run "$MGDPR" plan "${CONFIG[@]}"

step "contact 30 before the sweep"
sql "$DEMO_DB" -e 'SELECT id, firstname, lastname, email, mobile, city, country FROM leads WHERE id = 30'

step "sweep"
run "$MGDPR" sweep "${CONFIG[@]}"

step "contact 30 after the sweep"
sql "$DEMO_DB" -e 'SELECT id, firstname, lastname, email, mobile, city, country FROM leads WHERE id = 30'

step "lookup: a support request names person.30.s1@example.org (typed in capitals)"
run "$MGDPR" lookup "${CONFIG[@]}" --email "PERSON.30.S1@EXAMPLE.ORG"

step "lookup of an address that never left"
run "$MGDPR" lookup "${CONFIG[@]}" --email "person.33.s1@example.org" || echo "(exit $?: no match)"

step "status"
run "$MGDPR" status "${CONFIG[@]}"
# --- end of demo steps ---

echo
echo "demo.sh: done"
