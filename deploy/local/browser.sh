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
can_install_packages ||
	die "the browser tests need Debian's chromium at $CHROMIUM and fonts-liberation" \
		"install them: sudo apt-get install --no-install-recommends ${PACKAGES[*]}" \
		"or point LECTUREGEN_CHROMIUM at a Chromium binary"
install_packages "${PACKAGES[@]}"
installed || die "chromium was installed but $CHROMIUM is still missing"
