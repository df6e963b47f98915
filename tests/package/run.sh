#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Debian package, as an admin meets it (scripts/test.sh runs this):
#
#   bash tests/package/run.sh BUILD_DIR
#
# Builds the .deb in BUILD_DIR (cpack -G DEB), installs it with dpkg -i, checks what it put on
# the machine (the binary answers --version, `man -w` finds the man pages, the systemd units
# verify, the mautic-gdpr user exists, bash completion completes commands and options), then
# purges it again. Needs root. Runs of this script on one machine take turns (flock).
set -euo pipefail

BUILD=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd -P)
log() { printf 'package-test: %s\n' "$*"; }
fail() {
  printf 'package-test: FAILED: %s\n' "$*" >&2
  exit 1
}

((EUID == 0)) || fail "installing a .deb needs root"
exec 8>/run/lock/mautic-gdpr-package-test
flock -w 300 8 || fail "another package test holds /run/lock/mautic-gdpr-package-test"
if dpkg-query -W -f='${db:Status-Status}' mautic-gdpr 2>/dev/null | grep -qx installed; then
  fail "mautic-gdpr is already installed here; this test installs and purges it, so it leaves \
an installed package alone (dpkg --purge mautic-gdpr first)"
fi

log "cpack -G DEB in $BUILD"
rm -f "$BUILD"/mautic-gdpr_*.deb
(cd "$BUILD" && cpack -G DEB >cpack.log 2>&1) || {
  tail -20 "$BUILD/cpack.log"
  fail "cpack"
}
deb=$(ls "$BUILD"/mautic-gdpr_*.deb)
log "built $(basename "$deb")"
dpkg-deb --contents "$deb" | awk '{print $6}' >"$BUILD/deb-contents.txt"

installed=0
cleanup() {
  if ((installed)); then dpkg --purge mautic-gdpr >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

log "dpkg -i"
dpkg -i "$deb" >"$BUILD/dpkg.log" 2>&1 || {
  cat "$BUILD/dpkg.log"
  fail "dpkg -i"
}
installed=1

version=$(/usr/bin/mautic-gdpr --version)
[[ "$version" == "mautic-gdpr "* ]] || fail "mautic-gdpr --version said: $version"
log "mautic-gdpr --version: $version"
for page in mautic-gdpr mautic-gdpr-sweep mautic-gdpr-check mautic-gdpr-init-config; do
  where=$(man -w "$page") || fail "man -w $page finds nothing"
  log "man -w $page: $where"
done
for file in /etc/mautic-gdpr/config.toml.example /usr/lib/sysusers.d/mautic-gdpr.conf \
  /usr/share/bash-completion/completions/mautic-gdpr; do
  [[ -f "$file" ]] || fail "$file is missing"
done
getent passwd mautic-gdpr >/dev/null || fail "the mautic-gdpr user was not created"
[[ "$(stat -c '%a %U %G' /etc/mautic-gdpr)" == "750 root mautic-gdpr" ]] ||
  fail "/etc/mautic-gdpr is $(stat -c '%a %U %G' /etc/mautic-gdpr), not 750 root mautic-gdpr"
cmp -s /etc/mautic-gdpr/config.toml.example <(/usr/bin/mautic-gdpr init-config) ||
  fail "config.toml.example differs from what init-config prints"

units=(mautic-gdpr.service mautic-gdpr-sweep.service mautic-gdpr-sweep.timer
  mautic-gdpr@.service mautic-gdpr-sweep@.service mautic-gdpr-sweep@.timer)
for unit in "${units[@]}"; do
  [[ -f "/lib/systemd/system/$unit" || -f "/usr/lib/systemd/system/$unit" ]] ||
    fail "unit $unit is missing"
done
if command -v systemd-analyze >/dev/null; then
  # Two instances, as an agency runs them side by side.
  systemd-analyze verify --man=no mautic-gdpr.service mautic-gdpr-sweep.service \
    mautic-gdpr-sweep.timer mautic-gdpr@shop.service mautic-gdpr-sweep@shop.timer \
    mautic-gdpr-sweep@shop.service mautic-gdpr@blog.service mautic-gdpr-sweep@blog.timer \
    >"$BUILD/verify.log" 2>&1 || {
    cat "$BUILD/verify.log"
    fail "systemd-analyze verify"
  }
  grep -q "ExecStart=/usr/bin/mautic-gdpr sweep --quiet --config /etc/mautic-gdpr/shop.toml" \
    <(systemctl cat --no-pager mautic-gdpr-sweep@shop.service 2>/dev/null ||
      sed 's/%i/shop/g' /lib/systemd/system/mautic-gdpr-sweep@.service) ||
    fail "mautic-gdpr-sweep@shop.service does not read /etc/mautic-gdpr/shop.toml"
  log "systemd units verify (single and two instances)"
fi

# Bash completion, as bash calls it: commands, then a command's options.
completion() {
  bash -c 'source /usr/share/bash-completion/completions/mautic-gdpr
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _mautic_gdpr
    printf "%s\n" "${COMPREPLY[@]}"' completion /usr/bin/mautic-gdpr "$@"
}
[[ "$(completion sw)" == sweep ]] || fail "completing 'sw' gave: $(completion sw)"
[[ "$(completion sweep --full)" == --full-pass ]] ||
  fail "completing 'sweep --full' gave: $(completion sweep --full)"
[[ "$(completion init-config --from)" == --from-mautic ]] ||
  fail "completing 'init-config --from' gave: $(completion init-config --from)"
log "bash completion completes commands and options"

log "dpkg --purge"
dpkg --purge mautic-gdpr >"$BUILD/dpkg.log" 2>&1 || {
  cat "$BUILD/dpkg.log"
  fail "dpkg --purge"
}
installed=0
[[ ! -e /usr/bin/mautic-gdpr ]] || fail "/usr/bin/mautic-gdpr is still there after purge"
log "ok: installed, checked and removed"
