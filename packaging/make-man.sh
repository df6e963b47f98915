#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Man pages from the binary's own --help (help2man, a Debian package): mautic-gdpr(1) and one
# page per command, mautic-gdpr-COMMAND(1), gzipped as Debian installs them.
#   bash packaging/make-man.sh BINARY OUT_DIR
set -euo pipefail
binary=$(realpath "$1")
out=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

man() { # NAME PROGRAM DESCRIPTION
  help2man --no-info --no-discard-stderr --section=1 --name="$3" \
    --include="$here/mautic-gdpr.h2m" --output="$work/$1.1" "$2"
  gzip -9n <"$work/$1.1" >"$out/$1.1.gz"
}

man mautic-gdpr "$binary" "GDPR-grade handling of Mautic contacts who leave"
commands=$("$binary" --help | sed -n '/^subcommands:/I,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
for command in $commands; do
  # help2man names the page after the program it runs: a wrapper per command.
  wrapper="$work/mautic-gdpr-$command"
  printf '#!/bin/sh\nif [ "$1" = --version ]; then "%s" --version | sed "s/^mautic-gdpr/mautic-gdpr-%s/"; exit; fi\nexec "%s" %s "$@"\n' \
    "$binary" "$command" "$binary" "$command" >"$wrapper"
  chmod +x "$wrapper"
  # The first sentence of the command's own help, for the NAME line.
  summary=$("$binary" "$command" --help | sed '/^$/q' | tr '\n' ' ' | sed 's/\([.:]\) .*//; s/ *$//')
  man "mautic-gdpr-$command" "$wrapper" "$summary"
done
