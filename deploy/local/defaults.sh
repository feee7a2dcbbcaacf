# The default ports of the local services, for the scripts that start them (through lib.sh) and
# for env.sh, which prints how to reach them. Sourced, never run; defines variables only.
# shellcheck shell=bash

DEFAULT_KAFKA_PORT=19092
# The first client port of the local cluster (kafka.sh --brokers N): one port a node from here.
DEFAULT_KAFKA_CLUSTER_PORT=19192
DEFAULT_POSTGRES_PORT=55432
