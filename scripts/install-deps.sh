#!/usr/bin/env bash
# Installs the Debian (bookworm) packages mautic-gdpr needs, for one purpose:
#
# Usage: bash scripts/install-deps.sh demo   # build the tool and run the demo (scripts/demo.sh)
#        bash scripts/install-deps.sh test   # also everything the tests need (scripts/test.sh):
#                                            # GoogleTest, Google Benchmark, help2man and man-db
#                                            # (the .deb), Chromium and Node.js (browser test)
#
# Idempotent: every package is checked with dpkg-query first; when all are present nothing
# is run (no `apt-get update`, no network). Needs root, or sudo for a non-root user.
#
# The MariaDB *server* package is only wanted for its binaries (mariadbd, mariadb-install-db):
# the project always runs its own private server (scripts/mariadb-local.sh). While installing,
# a temporary /usr/sbin/policy-rc.d (exit 101) stops Debian's maintainer scripts from starting
# the system service; it is removed again afterwards, and an existing policy-rc.d is left alone.
set -euo pipefail

PURPOSE=${1:-test}
# Building mautic-gdpr and running it against a private MariaDB server (the demo).
DEMO_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  mariadb-server mariadb-client libmariadb-dev
  libssl-dev zlib1g-dev libsodium-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcpp-httplib-dev
)
TEST_PACKAGES=(
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang-format clang-tidy
  # The .deb (cpack -G DEB, dpkg-shlibdeps from dpkg-dev), its man pages and `man -w`.
  dpkg-dev help2man man-db
  # Fuzzing (fuzz/, scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes.
  clang libclang-rt-14-dev
  # The judge in the tests that PHP's own unserialize() still reads every rewritten value.
  php-cli
  # The browser test of the lookup page (tests/browser/): headless Chromium, driven by
  # playwright-core from npm (nodejs/npm), and fonts for readable screenshots.
  chromium chromium-driver fonts-dejavu-core nodejs
)
case "$PURPOSE" in
  demo) PACKAGES=("${DEMO_PACKAGES[@]}") ;;
  test) PACKAGES=("${DEMO_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *)
    echo "usage: bash scripts/install-deps.sh demo|test" >&2
    exit 2
    ;;
esac

log() { printf 'install-deps: %s\n' "$*"; }

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$pkg")
done
# npm: Debian's package, unless the installed nodejs brings its own (e.g. NodeSource's build,
# which conflicts with Debian's npm package).
if [[ "$PURPOSE" == test ]] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if ((${#missing[@]} == 0)); then
  log "all ${#PACKAGES[@]} packages for the $PURPOSE already installed"
  exit 0
fi

SUDO=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    log "missing packages (${missing[*]}) and not root, and sudo is not available" >&2
    exit 1
  fi
fi

# Keep services from being started by the packages' maintainer scripts (see header).
POLICY=/usr/sbin/policy-rc.d
POLICY_MARK='# mautic-gdpr install-deps: temporary, removed after apt-get'
remove_policy() {
  if [[ -f "$POLICY" ]] && grep -qF "$POLICY_MARK" "$POLICY" 2>/dev/null; then
    "${SUDO[@]}" rm -f "$POLICY"
  fi
}
if [[ ! -e "$POLICY" ]]; then
  printf '#!/bin/sh\n%s\nexit 101\n' "$POLICY_MARK" | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
fi
trap remove_policy EXIT

APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)

log "installing ${#missing[@]} missing package(s): ${missing[*]}"
log "apt-get update"
"${APT[@]}" -qq update
log "apt-get install"
"${APT[@]}" -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  install "${missing[@]}"

still_missing=()
for pkg in "${missing[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == installed ]] || still_missing+=("$pkg")
done
if ((${#still_missing[@]} > 0)); then
  log "still not installed: ${still_missing[*]}" >&2
  exit 1
fi
log "done"
