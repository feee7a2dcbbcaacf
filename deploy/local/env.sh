#!/usr/bin/env bash
# The connection settings of the local services (deploy/local/kafka.sh, postgres.sh).
#
#   source deploy/local/env.sh        exports them into the current shell and prints them
#   eval "$(deploy/local/env.sh)"     the same from a script
#   source deploy/local/env.sh --brokers 3
#                                     the same for the three-broker cluster of kafka.sh, with
#                                     the replication factor its topics need
# shellcheck shell=bash
# shellcheck source=deploy/local/defaults.sh
source "$(dirname "${BASH_SOURCE[0]}")/defaults.sh"

if [[ "${1:-}" == "--brokers" && "${2:-1}" != 1 ]]; then
	_ports="${LECTUREGEN_KAFKA_CLUSTER_PORTS:-$(seq -s, "$DEFAULT_KAFKA_CLUSTER_PORT" $((DEFAULT_KAFKA_CLUSTER_PORT + $2 - 1)))}"
	KAFKA_BOOTSTRAP_SERVERS="$(tr ',' '\n' <<<"$_ports" | sed 's/^/127.0.0.1:/' | paste -sd, -)"
	export KAFKA_BOOTSTRAP_SERVERS
	export LECTUREGEN_TOPIC_REPLICATION_FACTOR=3
	printf 'export LECTUREGEN_TOPIC_REPLICATION_FACTOR=%s\n' "$LECTUREGEN_TOPIC_REPLICATION_FACTOR"
	unset _ports
else
	export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:${LECTUREGEN_KAFKA_PORT:-$DEFAULT_KAFKA_PORT}"
fi
export DATABASE_URL="postgresql://lecturegen@127.0.0.1:${LECTUREGEN_POSTGRES_PORT:-$DEFAULT_POSTGRES_PORT}/lecturegen"
printf 'export KAFKA_BOOTSTRAP_SERVERS=%s\n' "$KAFKA_BOOTSTRAP_SERVERS"
printf 'export DATABASE_URL=%s\n' "$DATABASE_URL"
