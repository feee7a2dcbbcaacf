# Shared pieces of the local service scripts (kafka.sh, postgres.sh). Sourced, never run.
# shellcheck shell=bash

LOCAL_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
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
