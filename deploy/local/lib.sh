# Shared pieces of the local scripts (kafka.sh, postgres.sh, prometheus.sh, browser.sh).
# Sourced, never run.
# shellcheck shell=bash

LOCAL_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/defaults.sh
source "$LOCAL_SCRIPTS_DIR/defaults.sh"
REPO_ROOT="$(cd "$LOCAL_SCRIPTS_DIR/../.." && pwd)"
# Where every local service keeps its state; tests point it elsewhere to run a throwaway copy.
LOCAL_STATE_DIR="${LECTUREGEN_LOCAL_DIR:-$REPO_ROOT/.local}"

say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$1" >&2
	shift
	local line
	for line in "$@"; do printf '  %s\n' "$line" >&2; done
	exit 1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A short description of the process listening on port $1, when ss can tell.
port_owner() {
	local owner
	owner="$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -n1)"
	printf '%s' "${owner:-an unknown process}"
}

# Dies unless 127.0.0.1:$1 is free, saying who holds it, that $2 cannot listen there, and $3
# (how to pick another port).
require_free_port() {
	local port="$1" who="$2" fix="$3"
	if port_in_use "$port"; then
		die "port $port on 127.0.0.1 is already in use by $(port_owner "$port"), so $who cannot listen there" \
			"fix: stop that process, or pick a free port: $fix"
	fi
}

# True when process $1 exists and has not exited. An exited process stays a zombie until its
# parent reaps it, and a daemon's parent is init, which may take a while; kill -0 still succeeds.
pid_alive() {
	local stat
	[[ -n "$1" ]] && stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
	stat="${stat##*) }"
	[[ "${stat:0:1}" != Z && "${stat:0:1}" != X ]]
}

# True when pid $1 is alive and its command line contains $2.
pid_matches() {
	local pid="$1" pattern="$2"
	pid_alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern"
}

# Sends SIGTERM to every pid after the first argument, waits up to $1 seconds for all of them
# to exit, then sends SIGKILL to the ones left.
terminate_pids() {
	local grace="$1" waited=0 pid
	local -a left
	shift
	kill -TERM "$@" 2>/dev/null || true
	while :; do
		left=()
		for pid in "$@"; do pid_alive "$pid" && left+=("$pid"); done
		((${#left[@]})) || return 0
		if ((waited >= grace * 10)); then
			warn "pid ${left[*]} did not stop within ${grace}s; sending SIGKILL"
			kill -KILL "${left[@]}" 2>/dev/null || true
			sleep 0.5
			return 0
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
}

# Serialises start/stop of one service: engineers and test sessions call these scripts at once.
hold_lock() {
	local lock_file="$1"
	mkdir -p "$(dirname "$lock_file")"
	exec 9>"$lock_file"
	flock -w 300 9 || die "another start/stop still holds $lock_file after 300s"
}

# Prints the last $2 lines of file $1 to stderr, framed, when the file exists.
show_log_tail() {
	local file="$1" lines="$2"
	[[ -f "$file" ]] || return 0
	warn "---- last $lines lines of $file ----"
	tail -n "$lines" "$file" >&2
	warn "----"
}

require_port_number() {
	[[ "$2" =~ ^[0-9]+$ ]] && (($2 > 0 && $2 < 65536)) || die "$1=$2 is not a TCP port number"
}

# True when this script may install Debian packages: root, with apt-get.
can_install_packages() {
	[[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null
}

# Installs Debian's packages $@ without their recommends, updating the package lists only when
# the first try fails; dies when apt-get fails.
install_packages() {
	say "installing $* with apt-get (no recommends) ..."
	local apt=(apt-get install -y -q --no-install-recommends "$@")
	DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null ||
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive "${apt[@]}" >/dev/null; } ||
		die "apt-get install $* failed" "fix: run it by hand and read its output"
}

# show_logs MODE FILE...: the last 200 lines of the files; with MODE -f the last 50, then follows.
show_logs() {
	local mode="$1"
	shift
	if [[ "$mode" == "-f" ]]; then
		exec tail -n 50 -F "$@"
	fi
	tail -n 200 "$@"
}

# The command line of a service script (kafka.sh, postgres.sh): runs its start, stop, restart,
# status or logs function for "$@", or prints "usage: $0 $1" and exits 2.
service_main() {
	local usage="$1"
	shift
	case "${1:-}" in
	start) start ;;
	stop) stop ;;
	restart)
		(stop)
		start
		;;
	status) status ;;
	logs) logs "${2:-}" ;;
	*)
		warn "usage: $0 $usage"
		exit 2
		;;
	esac
}
