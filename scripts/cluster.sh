#!/usr/bin/env bash
# The scaled bot on one machine (see scripts/cluster.py and docs/deployment.md):
#   scripts/cluster.sh run | start | stop [--drop-database] | status [--json]
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
exec .venv/bin/python -m scripts.cluster "$@"
