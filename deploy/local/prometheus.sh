#!/usr/bin/env bash
# Prometheus and promtool from Debian's `prometheus` package (2.42 on bookworm), for checking
# the dashboard and the alert rules of deploy/ against a real Prometheus; no Docker, no download.
#
#   deploy/local/prometheus.sh install    install the package when missing (root + apt-get)
#   deploy/local/prometheus.sh check      promtool check config/rules on deploy/prometheus/
#
# As root with apt-get, a missing package is installed with --no-install-recommends; otherwise
# the script fails and says what to install. The package's own service is never started here:
# tests run their own `prometheus` with a private configuration and data directory.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

install() {
	if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
		say "prometheus ready: $(command -v prometheus)"
		return
	fi
	can_install_packages || die "prometheus and promtool were not found" \
		"fix: sudo apt-get install --no-install-recommends prometheus"
	say "prometheus is not installed"
	install_packages prometheus
	say "prometheus ready: $(command -v prometheus)"
}

check() {
	install >/dev/null
	promtool check rules "$REPO_ROOT/deploy/prometheus/alerts.yml"
	promtool check config "$REPO_ROOT/deploy/prometheus/prometheus.yml"
}

case "${1:-}" in
install) install ;;
check) check ;;
*) die "usage: $0 install|check" ;;
esac
