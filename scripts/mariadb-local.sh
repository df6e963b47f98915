#!/usr/bin/env bash
# A private, throwaway MariaDB server for tests, benchmarks and the demo.
#
# Usage: bash scripts/mariadb-local.sh start|stop|status|client DIR [client args...]
#
#   start DIR   initialize DIR/data on first use, start the server, wait until it answers
#               (at most 60 s). Already running: says so and succeeds.
#   stop DIR    clean shutdown (mariadb-admin shutdown), waits for the process to go; falls
#               back to SIGTERM, then SIGKILL. Not running: says so and succeeds.
#   status DIR  exit 0 and print pid/socket when running and answering, exit 1 otherwise.
#   client DIR  run the mariadb client as root over the socket (extra args are passed on).
#
# Everything lives in DIR: data/ (datadir), tmp/, mysqld.sock, mysqld.pid, mysqld.log,
# install.log. The server reads no option files (--no-defaults, so nothing in /etc/mysql or
# ~/.my.cnf applies), listens on the socket only (--skip-networking) unless MGDPR_DB_PORT is
# set, in which case it also listens on 127.0.0.1:$MGDPR_DB_PORT and nowhere else.
# root@localhost has an empty password (and, as OS root, unix_socket works too):
#   mariadb --no-defaults --socket=DIR/mysqld.sock -uroot
# The settings trade durability for speed: never point this at data you want to keep.
set -euo pipefail

PROG=mariadb-local
START_TIMEOUT=60
STOP_TIMEOUT=60

log() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
usage() {
  printf 'usage: %s start|stop|status|client DIR [mariadb client args...]\n' "$0" >&2
  exit 2
}

(($# >= 2)) || usage
CMD=$1
DIR_ARG=$2
shift 2

[[ "$CMD" == start || "$CMD" == stop || "$CMD" == status || "$CMD" == client ]] || usage

find_bin() {
  local name
  for name in "$@"; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
    if [[ -x "/usr/sbin/$name" ]]; then
      printf '/usr/sbin/%s\n' "$name"
      return 0
    fi
  done
  die "none of '$*' found; run: bash scripts/install-deps.sh"
}

if [[ "$CMD" == start ]]; then
  mkdir -p "$DIR_ARG"
fi
[[ -d "$DIR_ARG" ]] || {
  # stop/status on a directory that was never used: nothing is running there.
  if [[ "$CMD" == status ]]; then
    log "not running ($DIR_ARG does not exist)"
    exit 1
  fi
  if [[ "$CMD" == stop ]]; then
    log "not running ($DIR_ARG does not exist)"
    exit 0
  fi
  die "$DIR_ARG does not exist"
}
DIR=$(cd "$DIR_ARG" && pwd -P)
DATA="$DIR/data"
SOCK="$DIR/mysqld.sock"
PIDFILE="$DIR/mysqld.pid"
LOGFILE="$DIR/mysqld.log"
MARKER="$DIR/.initialized"

# sun_path holds 108 bytes including the terminating NUL.
if ((${#SOCK} > 107)); then
  die "socket path too long for a unix socket (${#SOCK} > 107 bytes): $SOCK; use a shorter DIR"
fi

MARIADB=$(find_bin mariadb mysql)

# True when the process exists and is not a zombie (a server whose parent script has exited
# may linger as a zombie when nothing reaps it; kill -0 alone would call that alive).
alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ "${stat:0:1}" != Z && "${stat:0:1}" != X ]]
}

# Pid from the pid file when that process is alive and is a MariaDB server.
server_pid() {
  local pid comm
  [[ -f "$PIDFILE" ]] || return 1
  pid=$(tr -dc '0-9' <"$PIDFILE" 2>/dev/null || true)
  [[ -n "$pid" ]] || return 1
  alive "$pid" || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  [[ "$comm" == mariadbd || "$comm" == mysqld ]] || return 1
  printf '%s\n' "$pid"
}

answers() {
  [[ -S "$SOCK" ]] || return 1
  timeout -k 2 10 "$MARIADB" --no-defaults --socket="$SOCK" -uroot --connect-timeout=5 \
    -N -B -e 'SELECT 1' >/dev/null 2>&1
}

show_log_tail() {
  if [[ -f "$LOGFILE" ]]; then
    printf '%s: last lines of %s:\n' "$PROG" "$LOGFILE" >&2
    tail -n 30 "$LOGFILE" >&2 || true
  else
    printf '%s: (no log file %s)\n' "$PROG" "$LOGFILE" >&2
  fi
}

where() {
  local s="socket $SOCK"
  if [[ -n "${MGDPR_DB_PORT:-}" ]]; then
    s+=", tcp 127.0.0.1:$MGDPR_DB_PORT"
  fi
  printf '%s' "$s"
}

# Serialize start/stop on the same DIR (parallel callers would otherwise race on init).
lock() {
  exec 9>"$DIR/.lock"
  flock -w 180 9 || die "timed out waiting for the lock on $DIR/.lock"
}

do_status() {
  local pid
  if pid=$(server_pid); then
    if answers; then
      log "running (pid $pid), socket $SOCK"
      return 0
    fi
    log "process $pid is alive but does not answer on $SOCK"
    return 1
  fi
  log "not running ($DIR)"
  return 1
}

init_datadir() {
  local install_db user_opt=()
  install_db=$(find_bin mariadb-install-db mysql_install_db)
  ((EUID == 0)) && user_opt=(--user=root)
  # A data dir without the marker is a half-done earlier attempt: start over.
  rm -rf "$DATA"
  mkdir -p "$DATA" "$DIR/tmp"
  log "initializing $DATA"
  if ! "$install_db" --no-defaults --datadir="$DATA" "${user_opt[@]}" \
    --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
    --innodb_buffer_pool_size=128M --tmpdir="$DIR/tmp" >"$DIR/install.log" 2>&1; then
    printf '%s: mariadb-install-db failed; last lines of %s:\n' "$PROG" "$DIR/install.log" >&2
    tail -n 30 "$DIR/install.log" >&2 || true
    exit 1
  fi
  touch "$MARKER"
}

do_start() {
  local pid mariadbd net_opts=() user_opt=() waited=0 server
  lock
  if pid=$(server_pid); then
    # Running (maybe still starting up): wait for it rather than start a second one.
    while ! answers; do
      alive "$pid" || break
      ((waited < START_TIMEOUT)) || break
      sleep 1
      waited=$((waited + 1))
    done
    if answers; then
      log "already running (pid $pid), $(where)"
      return 0
    fi
    show_log_tail
    die "a server (pid $pid) runs in $DIR but does not answer on $SOCK; try: $0 stop $DIR_ARG"
  fi

  # Leftovers of a server that died without cleaning up.
  rm -f "$PIDFILE" "$SOCK" "$SOCK.lock"

  [[ -f "$MARKER" && -d "$DATA/mysql" ]] || init_datadir
  mkdir -p "$DIR/tmp"

  mariadbd=$(find_bin mariadbd mysqld)
  ((EUID == 0)) && user_opt=(--user=root)
  if [[ -n "${MGDPR_DB_PORT:-}" ]]; then
    [[ "$MGDPR_DB_PORT" =~ ^[0-9]+$ ]] || die "MGDPR_DB_PORT must be a port number, got '$MGDPR_DB_PORT'"
    net_opts=(--port="$MGDPR_DB_PORT" --bind-address=127.0.0.1)
  else
    net_opts=(--skip-networking)
  fi

  log "starting server in $DIR"
  {
    printf '\n==== %s: start %s ====\n' "$PROG" "$(date '+%Y-%m-%d %H:%M:%S')"
  } >>"$LOGFILE"
  # --no-defaults must come first. Fast, non-durable settings for tests.
  "$mariadbd" --no-defaults "${user_opt[@]}" \
    --datadir="$DATA" --tmpdir="$DIR/tmp" \
    --socket="$SOCK" --pid-file="$PIDFILE" --log-error="$LOGFILE" \
    "${net_opts[@]}" --skip-name-resolve \
    --skip-log-bin --innodb_flush_log_at_trx_commit=0 --innodb_doublewrite=0 \
    --innodb_file_per_table=0 --innodb_flush_method=nosync --sync_frm=0 \
    --innodb_buffer_pool_size=256M --max_connections=200 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
    </dev/null >>"$LOGFILE" 2>&1 9>&- &
  server=$!

  while ! answers; do
    if ! alive "$server"; then
      show_log_tail
      die "server exited during startup (see $LOGFILE)"
    fi
    if ((waited >= START_TIMEOUT)); then
      show_log_tail
      kill -KILL "$server" 2>/dev/null || true
      die "server did not answer on $SOCK within ${START_TIMEOUT}s (killed it; see $LOGFILE)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "running (pid $server), $(where)"
}

wait_gone() { # pid seconds
  local pid=$1 n=0
  while alive "$pid"; do
    ((n < $2)) || return 1
    sleep 1
    n=$((n + 1))
  done
}

do_stop() {
  local pid admin
  lock
  if ! pid=$(server_pid); then
    rm -f "$PIDFILE" "$SOCK" "$SOCK.lock"
    log "not running ($DIR)"
    return 0
  fi
  admin=$(find_bin mariadb-admin mysqladmin)
  log "stopping server (pid $pid)"
  timeout -k 5 30 "$admin" --no-defaults --socket="$SOCK" -uroot shutdown >/dev/null 2>&1 || true
  if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
    log "no clean shutdown after ${STOP_TIMEOUT}s, sending SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 20; then
      log "still alive, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 10 || die "could not stop pid $pid"
    fi
  fi
  rm -f "$PIDFILE" "$SOCK" "$SOCK.lock"
  log "stopped"
}

case "$CMD" in
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  client) exec "$MARIADB" --no-defaults --socket="$SOCK" -uroot "$@" ;;
esac
