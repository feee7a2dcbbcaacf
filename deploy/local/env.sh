#!/usr/bin/env bash
# The connection settings of the local services (deploy/local/kafka.sh, postgres.sh).
#
#   source deploy/local/env.sh        exports them into the current shell and prints them
#   eval "$(deploy/local/env.sh)"     the same from a script
# shellcheck shell=bash

export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:${LECTUREGEN_KAFKA_PORT:-19092}"
export DATABASE_URL="postgresql://lecturegen@127.0.0.1:${LECTUREGEN_POSTGRES_PORT:-55432}/lecturegen"
printf 'export KAFKA_BOOTSTRAP_SERVERS=%s\n' "$KAFKA_BOOTSTRAP_SERVERS"
printf 'export DATABASE_URL=%s\n' "$DATABASE_URL"
