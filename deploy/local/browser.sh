#!/usr/bin/env bash
# Makes sure the browser the page's tests drive is installed: Debian's chromium and the fonts
# its screenshots use. Installs them when missing and running as root; otherwise says what to do.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CHROMIUM="${LECTUREGEN_CHROMIUM:-/usr/lib/chromium/chromium}"
FONTS_DIR=/usr/share/fonts/truetype/liberation
PACKAGES=(chromium fonts-liberation)

installed() { [[ -x "$CHROMIUM" && -d "$FONTS_DIR" ]]; }

if installed; then
	exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
	die "the browser tests need Debian's chromium at $CHROMIUM and fonts-liberation" \
		"install them: sudo apt-get install --no-install-recommends ${PACKAGES[*]}" \
		"or point LECTUREGEN_CHROMIUM at a Chromium binary"
fi
say "installing ${PACKAGES[*]} (apt-get, no recommends)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
installed || die "chromium was installed but $CHROMIUM is still missing"
