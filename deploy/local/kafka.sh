#!/usr/bin/env bash
# Apache Kafka 4 (KRaft) for development and tests, run from its Maven Central jars with the
# machine's Java; no Docker, no tarballs. By default one node that is both broker and
# controller; with --brokers 3 a cluster of three such nodes (replication factor 3,
# min.insync.replicas=2), on ports and in a data dir of its own, beside the single broker.
#
#   deploy/local/kafka.sh [--brokers N] [--node K] start|stop|restart|status|logs [-f]
#
#   --brokers N   1 (default): the single dev broker; 3 or more: a local cluster of N nodes
#   --node K      with --brokers N: act on node K alone (stop or kill one, start it again)
#
# Environment:
#   LECTUREGEN_KAFKA_PORT             single broker: client port on 127.0.0.1 (default 19092)
#   LECTUREGEN_KAFKA_CONTROLLER_PORT  single broker: controller port (default: client port + 1)
#   LECTUREGEN_KAFKA_CLUSTER_PORTS    cluster: the N client ports, comma-separated
#                                     (default 19192,19193,... : one per node)
#   LECTUREGEN_KAFKA_CLUSTER_CONTROLLER_PORTS
#                                     cluster: the N controller ports (default: the N ports
#                                     after the client ports, 19195,... for 3 nodes)
#   LECTUREGEN_LOCAL_DIR              state root (default: <repo>/.local); the single broker
#                                     uses ./kafka in it, a cluster ./kafka-cluster
#   LECTUREGEN_KAFKA_READY_TIMEOUT_S  how long start waits for the broker(s) (default 90)
#   JAVA_HOME                         Java 17+ to use (default: java on PATH)
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BROKERS=1
ONLY_NODE=""
ARGS=()
while (($#)); do
	case "$1" in
	--brokers)
		BROKERS="${2:-}"
		shift 2 || die "--brokers needs a count"
		;;
	--brokers=*)
		BROKERS="${1#*=}"
		shift
		;;
	--node)
		ONLY_NODE="${2:-}"
		shift 2 || die "--node needs a node number"
		;;
	--node=*)
		ONLY_NODE="${1#*=}"
		shift
		;;
	*)
		ARGS+=("$1")
		shift
		;;
	esac
done
set -- "${ARGS[@]+"${ARGS[@]}"}"
[[ "$BROKERS" =~ ^[0-9]+$ ]] && ((BROKERS == 1 || (BROKERS >= 3 && BROKERS <= 9))) ||
	die "--brokers $BROKERS: run 1 broker, or a cluster of 3 to 9 (2 nodes cannot lose one:" \
		"a KRaft quorum of 2 needs both, and min.insync.replicas=2 needs a third replica)"
if [[ -n "$ONLY_NODE" ]]; then
	((BROKERS > 1)) || die "--node only applies to a cluster (--brokers 3)"
	[[ "$ONLY_NODE" =~ ^[0-9]+$ ]] && ((ONLY_NODE >= 1 && ONLY_NODE <= BROKERS)) ||
		die "--node $ONLY_NODE: the cluster's nodes are 1 to $BROKERS"
fi
READY_TIMEOUT_S="${LECTUREGEN_KAFKA_READY_TIMEOUT_S:-90}"

# Jars are shared by the single broker and every cluster node.
LIBS_DIR="$LOCAL_STATE_DIR/kafka/libs"
POM="$LOCAL_SCRIPTS_DIR/kafka/pom.xml"
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
LOG4J_CONFIG="$LOCAL_SCRIPTS_DIR/kafka/log4j2.xml"

if ((BROKERS == 1)); then
	SCOPE_DIR="$LOCAL_STATE_DIR/kafka"
	CLIENT_PORTS=("${LECTUREGEN_KAFKA_PORT:-$DEFAULT_KAFKA_PORT}")
	require_port_number LECTUREGEN_KAFKA_PORT "${CLIENT_PORTS[0]}"
	CONTROLLER_PORTS=("${LECTUREGEN_KAFKA_CONTROLLER_PORT:-$((CLIENT_PORTS[0] + 1))}")
	require_port_number LECTUREGEN_KAFKA_CONTROLLER_PORT "${CONTROLLER_PORTS[0]}"
	NAME=kafka
else
	SCOPE_DIR="$LOCAL_STATE_DIR/kafka-cluster"
	# port_list VARIABLE DEFAULT_FIRST: the N ports of VARIABLE, or N consecutive from the first.
	port_list() {
		local variable="$1" first="$2" value ports port
		value="${!variable:-}"
		if [[ -z "$value" ]]; then
			value="$(seq -s, "$first" "$((first + BROKERS - 1))")"
		fi
		IFS=, read -r -a ports <<<"$value"
		((${#ports[@]} == BROKERS)) || die "$variable=$value names ${#ports[@]} ports; the cluster has $BROKERS nodes"
		for port in "${ports[@]}"; do require_port_number "$variable" "$port"; done
		printf '%s\n' "${ports[@]}"
	}
	mapfile -t CLIENT_PORTS < <(port_list LECTUREGEN_KAFKA_CLUSTER_PORTS "$DEFAULT_KAFKA_CLUSTER_PORT")
	mapfile -t CONTROLLER_PORTS < <(port_list LECTUREGEN_KAFKA_CLUSTER_CONTROLLER_PORTS $((CLIENT_PORTS[0] + BROKERS)))
	NAME="kafka cluster"
fi
BOOTSTRAP="$(for port in "${CLIENT_PORTS[@]}"; do printf '127.0.0.1:%s\n' "$port"; done | paste -sd, -)"

# use_node I: points NODE_* at node I's files and ports (the single broker is node 1).
use_node() {
	local i="$1"
	NODE_ID="$i"
	NODE_PORT="${CLIENT_PORTS[$((i - 1))]}"
	NODE_CONTROLLER_PORT="${CONTROLLER_PORTS[$((i - 1))]}"
	if ((BROKERS == 1)); then
		NODE_DIR="$SCOPE_DIR"
		NODE_LABEL=kafka
	else
		NODE_DIR="$SCOPE_DIR/node-$i"
		NODE_LABEL="kafka node $i"
	fi
	DATA_DIR="$NODE_DIR/data"
	LOG_DIR="$NODE_DIR/logs"
	PID_FILE="$NODE_DIR/kafka.pid"
	CONFIG_FILE="$NODE_DIR/server.properties"
	SERVER_LOG="$LOG_DIR/server.log"
}

# The nodes an action applies to: all of them, or the one --node names.
nodes() {
	if [[ -n "$ONLY_NODE" ]]; then printf '%s\n' "$ONLY_NODE"; else seq 1 "$BROKERS"; fi
}

java_bin() {
	if [[ -n "${JAVA_HOME:-}" ]]; then
		[[ -x "$JAVA_HOME/bin/java" ]] ||
			die "JAVA_HOME=$JAVA_HOME has no bin/java" \
				"fix: point JAVA_HOME at a Java 17+ installation, or unset it to use java from PATH"
		printf '%s' "$JAVA_HOME/bin/java"
		return
	fi
	command -v java >/dev/null ||
		die "java was not found on PATH; Kafka 4 needs Java 17 or newer" \
			"fix: apt-get install -y openjdk-17-jre-headless (or set JAVA_HOME)"
	command -v java
}

require_java() {
	JAVA="$(java_bin)"
	local version major
	version="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
	major="${version%%.*}"
	[[ "$major" == 1 ]] && major="$(cut -d. -f2 <<<"$version")"
	[[ "$major" =~ ^[0-9]+$ ]] ||
		die "could not read the Java version from '$JAVA -version'" \
			"fix: install Java 17+ (apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME"
	((major >= 17)) ||
		die "$JAVA is Java $version; Kafka 4 needs Java 17 or newer" \
			"fix: apt-get install -y openjdk-17-jre-headless, then set JAVA_HOME to it"
}

# Copies the broker's jars from Maven Central into $LIBS_DIR, unless the pom is unchanged since
# the last copy (a hash stamp sits beside the jars).
ensure_jars() {
	local stamp="$LIBS_DIR/.pom.sha256" want
	want="$(sha256sum "$POM" | cut -d' ' -f1)"
	if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null; then
		return
	fi
	command -v mvn >/dev/null ||
		die "mvn (Apache Maven) was not found; it fetches the Kafka jars from Maven Central" \
			"fix: apt-get install -y maven"
	say "fetching the Kafka jars from Maven Central (first start only) ..."
	local jars_dir
	jars_dir="$(dirname "$LIBS_DIR")"
	local staging="$jars_dir/libs.partial" mvn_log="$jars_dir/maven.log"
	rm -rf "$staging"
	mkdir -p "$jars_dir"
	# The goal is spelled out in full so an unreachable repository reports a failed download
	# rather than an unknown "dependency:" prefix.
	if ! mvn -B -q -Dstyle.color=never -f "$POM" "$DEPENDENCY_PLUGIN:copy-dependencies" -DoutputDirectory="$staging" \
		>"$mvn_log" 2>&1; then
		show_log_tail "$mvn_log" 30
		if grep -qiE 'transfer|resolve|unknownhost|connect|timed out|network|offline' "$mvn_log"; then
			die "Maven could not download the Kafka jars (is Maven Central reachable?)" \
				"fix: check network access to Maven Central, or configure a mirror/proxy in ~/.m2/settings.xml" \
				"full output: $mvn_log"
		fi
		die "Maven failed to copy the Kafka jars; full output: $mvn_log"
	fi
	printf '%s\n' "$want" >"$staging/.pom.sha256"
	rm -rf "$LIBS_DIR"
	mv "$staging" "$LIBS_DIR"
}

# Prints the pid of the current node's running broker, if any: from the pid file, or by the
# config path it was started with when the pid file is gone.
running_pid() {
	local pid=""
	[[ -f "$PID_FILE" ]] && pid="$(cat "$PID_FILE" 2>/dev/null || true)"
	if pid_matches "$pid" "$CONFIG_FILE"; then
		printf '%s' "$pid"
		return
	fi
	pid="$(pgrep -f -- "kafka.Kafka $CONFIG_FILE" | head -n1 || true)"
	if [[ -n "$pid" ]]; then
		printf '%s' "$pid" >"$PID_FILE"
		printf '%s' "$pid"
	fi
}

quorum_voters() {
	local i voters=()
	for i in $(seq 1 "$BROKERS"); do voters+=("$i@127.0.0.1:${CONTROLLER_PORTS[$((i - 1))]}"); done
	(
		IFS=,
		printf '%s' "${voters[*]}"
	)
}

write_config() {
	mkdir -p "$DATA_DIR" "$LOG_DIR"
	cat >"$CONFIG_FILE" <<CONF
# Generated by deploy/local/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=$(quorum_voters)
listeners=PLAINTEXT://127.0.0.1:$NODE_PORT,CONTROLLER://127.0.0.1:$NODE_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$NODE_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR

$(topic_settings)

delete.topic.enable=true
group.initial.rebalance.delay.ms=0

# Small footprint for a dev machine.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=2
log.segment.bytes=16777216
log.retention.check.interval.ms=300000
CONF
}

# The replication settings: none on one node; on a cluster what docs/scaling.md and the
# deployment manifests promise (deploy/kubernetes/kafka), so one node may fail or restart
# without losing an acknowledged write. On a cluster every topic is created by the services
# with its counts, as in a deployment; one node auto-creates topics for ad-hoc experiments.
topic_settings() {
	local replicas=1 in_sync=1 offsets=8 auto_create=true partitions=4
	if ((BROKERS > 1)); then
		replicas=3 in_sync=2 offsets=12 auto_create=false partitions=12
		printf '%s\n' "unclean.leader.election.enable=false"
	fi
	cat <<SETTINGS
default.replication.factor=$replicas
min.insync.replicas=$in_sync
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=$offsets
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$in_sync
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$replicas
share.coordinator.state.topic.min.isr=$in_sync
auto.create.topics.enable=$auto_create
num.partitions=$partitions
SETTINGS
}

# The cluster's id: made once, kept beside the nodes so every node is formatted with it.
cluster_id() {
	local file="$SCOPE_DIR/cluster.id"
	if [[ ! -s "$file" ]]; then
		mkdir -p "$SCOPE_DIR"
		# A Kafka cluster id is 16 random bytes, base64url without padding.
		head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' >"$file"
	fi
	cat "$file"
}

# Formats the storage once; the cluster id lives in the data dir's meta.properties from then on.
ensure_formatted() {
	[[ -f "$DATA_DIR/meta.properties" ]] && return
	local cluster_id
	cluster_id="$(cluster_id)"
	say "formatting Kafka storage in $DATA_DIR (cluster id $cluster_id)"
	if ! "$JAVA" -Xmx256m -cp "$LIBS_DIR/*" -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
		-Dkafka.logs.dir="$LOG_DIR" kafka.tools.StorageTool format \
		--config "$CONFIG_FILE" --cluster-id "$cluster_id" --ignore-formatted \
		>"$LOG_DIR/format.out" 2>&1; then
		show_log_tail "$LOG_DIR/format.out" 40
		die "formatting the Kafka storage failed" "fix: remove $DATA_DIR and start again"
	fi
}

ready_python() {
	local candidate
	for candidate in "$REPO_ROOT/.venv/bin/python" python3; do
		if command -v "$candidate" >/dev/null && "$candidate" -c 'import aiokafka' 2>/dev/null; then
			printf '%s' "$candidate"
			return
		fi
	done
}

# Waits until a Kafka client asking the current node sees it registered in the cluster.
wait_ready() {
	local pid="$1" python
	python="$(ready_python)"
	if [[ -n "$python" ]]; then
		"$python" "$LOCAL_SCRIPTS_DIR/kafka_ready.py" "127.0.0.1:$NODE_PORT" "$READY_TIMEOUT_S" "$pid" "$NODE_ID"
		return
	fi
	# Without aiokafka (no .venv yet): the broker's own "started" line plus an open port.
	warn "note: no Python with aiokafka found; checking the broker log instead of a client call"
	local deadline=$((SECONDS + READY_TIMEOUT_S))
	while ((SECONDS < deadline)); do
		pid_alive "$pid" || return 2
		if grep -q 'Kafka Server started' "$SERVER_LOG" 2>/dev/null && port_in_use "$NODE_PORT"; then
			return 0
		fi
		sleep 0.5
	done
	return 1
}

# Refuses to start the current node when one of its ports is taken, naming the variable to set.
require_free_ports() {
	local port fix
	if ((BROKERS == 1)); then
		fix="e.g. LECTUREGEN_KAFKA_PORT=29092 $0 start (the controller uses LECTUREGEN_KAFKA_CONTROLLER_PORT, default client port + 1)"
	else
		fix="set LECTUREGEN_KAFKA_CLUSTER_PORTS and LECTUREGEN_KAFKA_CLUSTER_CONTROLLER_PORTS ($BROKERS ports each)"
	fi
	for port in "$NODE_PORT" "$NODE_CONTROLLER_PORT"; do
		require_free_port "$port" "$NODE_LABEL" "$fix"
	done
}

# Starts the current node's JVM in the background (configured and formatted by the caller);
# its pid is left in LAUNCHED_PID.
launch_node() {
	# No broker of this node runs (checked by the caller), so a lock left by a crash is stale.
	rm -f "$DATA_DIR/.lock" "$PID_FILE"
	say "starting $NODE_LABEL on 127.0.0.1:$NODE_PORT (controller 127.0.0.1:$NODE_CONTROLLER_PORT), data in $DATA_DIR"
	# Every partition costs the broker heap: a long-lived local broker that has seen thousands
	# of test and benchmark topics ran out of 512 MiB (Java heap space) and stopped answering.
	local heap=-Xmx1g
	((BROKERS == 1)) || heap=-Xmx512m
	# setsid: the broker outlives the shell (and test session) that started it.
	setsid "$JAVA" -Xms128m "$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
		-Djava.awt.headless=true -Dlog4j2.configurationFile="$LOG4J_CONFIG" \
		-Dkafka.logs.dir="$LOG_DIR" -cp "$LIBS_DIR/*" kafka.Kafka "$CONFIG_FILE" \
		</dev/null >>"$LOG_DIR/kafka.out" 2>&1 9>&- &
	LAUNCHED_PID=$!
	printf '%s\n' "$LAUNCHED_PID" >"$PID_FILE"
}

# Waits for the current node (pid $1) to be ready; on failure stops it and exits with the logs.
await_node() {
	local pid="$1" status=0
	wait_ready "$pid" || status=$?
	((status == 0)) && return
	if pid_alive "$pid"; then
		warn "error: $NODE_LABEL did not become ready within ${READY_TIMEOUT_S}s; stopping it"
		terminate_pids 10 "$pid"
	else
		warn "error: $NODE_LABEL exited during start-up"
	fi
	rm -f "$PID_FILE"
	show_log_tail "$LOG_DIR/kafka.out" 20
	show_log_tail "$SERVER_LOG" 40
	die "$NODE_LABEL failed to start; logs: $LOG_DIR" \
		"fix: read the log above; to start from empty storage: $0 $(scope_flag)stop && rm -rf $DATA_DIR"
}

scope_flag() {
	((BROKERS == 1)) || printf -- '--brokers %s ' "$BROKERS"
}

start() {
	hold_lock "$SCOPE_DIR/.script.lock"
	local i pid
	local -A started=()
	for i in $(nodes); do
		use_node "$i"
		pid="$(running_pid)"
		if [[ -n "$pid" ]]; then
			say "$NODE_LABEL already running (pid $pid)"
			continue
		fi
		started[$i]=pending
	done
	if ((${#started[@]})); then
		require_java
		for i in "${!started[@]}"; do
			use_node "$i"
			require_free_ports
		done
		ensure_jars
	fi
	for i in "${!started[@]}"; do
		use_node "$i"
		write_config
	done
	# Formatting starts a JVM per node: the nodes are formatted side by side, with one id.
	((${#started[@]} == 0)) || cluster_id >/dev/null
	local -A formatting=()
	for i in "${!started[@]}"; do
		use_node "$i"
		ensure_formatted &
		formatting[$i]=$!
	done
	for i in "${!formatting[@]}"; do
		wait "${formatting[$i]}" || exit 1
	done
	for i in "${!started[@]}"; do
		use_node "$i"
		launch_node
		started[$i]="$LAUNCHED_PID"
	done
	# Every node is launched before any is awaited: a cluster's node is ready only once a
	# majority of the controllers runs.
	for i in $(nodes); do
		use_node "$i"
		if [[ -n "${started[$i]:-}" ]]; then
			await_node "${started[$i]}"
			continue
		fi
		pid="$(running_pid)"
		port_in_use "$NODE_PORT" || wait_ready "$pid" ||
			die "$NODE_LABEL (pid $pid) runs but does not answer on 127.0.0.1:$NODE_PORT" \
				"fix: $0 $(scope_flag)restart (was it started with other ports?); logs: $0 $(scope_flag)logs"
	done
	say "$NAME ready at $BOOTSTRAP"
	if ((BROKERS > 1)); then
		say "services on this cluster: KAFKA_BOOTSTRAP_SERVERS=$BOOTSTRAP LECTUREGEN_TOPIC_REPLICATION_FACTOR=3"
	fi
}

stop() {
	hold_lock "$SCOPE_DIR/.script.lock"
	local i pid pids=()
	for i in $(nodes); do
		use_node "$i"
		pid="$(running_pid)"
		if [[ -z "$pid" ]]; then
			rm -f "$PID_FILE"
			say "$NODE_LABEL is not running"
			continue
		fi
		say "stopping $NODE_LABEL (pid $pid) ..."
		pids+=("$pid")
	done
	((${#pids[@]})) || return 0
	# All at once: a cluster's last nodes would otherwise wait for a quorum that is leaving.
	# A controlled shutdown of a combined node takes a few seconds.
	terminate_pids 30 "${pids[@]}"
	for i in $(nodes); do
		use_node "$i"
		rm -f "$PID_FILE"
	done
	say "$NAME stopped"
}

status() {
	local i pid running=0 answering=0 total=0
	for i in $(nodes); do
		use_node "$i"
		total=$((total + 1))
		pid="$(running_pid)"
		if [[ -z "$pid" ]]; then
			say "$NODE_LABEL is not running"
			continue
		fi
		running=$((running + 1))
		if port_in_use "$NODE_PORT"; then
			answering=$((answering + 1))
			say "$NODE_LABEL running (pid $pid) at 127.0.0.1:$NODE_PORT, data in $DATA_DIR"
		else
			say "$NODE_LABEL process $pid is up but 127.0.0.1:$NODE_PORT does not accept connections (still starting?)"
		fi
	done
	((running > 0)) || return 3
	((answering == total)) || return 1
}

logs() {
	local i files=()
	for i in $(nodes); do
		use_node "$i"
		[[ -f "$SERVER_LOG" ]] && files+=("$SERVER_LOG")
	done
	((${#files[@]})) || die "no $NAME log yet under $SCOPE_DIR"
	show_logs "${1:-}" "${files[@]}"
}

service_main "[--brokers N] [--node K] start|stop|restart|status|logs [-f]" "$@"
