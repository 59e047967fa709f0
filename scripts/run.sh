#!/usr/bin/env bash
# Starts the action server and the Rasa server with the embedded defaults
# (SQLite tracker store under var/, in-memory lock store). Ctrl-C stops both.
#   scripts/run.sh          serve the REST API on http://localhost:${RASA_PORT:-5005}
#   scripts/run.sh --shell  chat in the terminal instead
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
mkdir -p var/log

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

actions_up() { curl -fsS "http://localhost:$ACTIONS_PORT/health" >/dev/null 2>&1; }

if actions_up; then
  echo "Using the action server already running on port $ACTIONS_PORT"
else
  echo "Starting the action server on port $ACTIONS_PORT (log: var/log/actions.log)"
  "$BIN/rasa" run actions --port "$ACTIONS_PORT" --actions actions >var/log/actions.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    if actions_up; then break; fi
    if ! kill -0 "${pids[0]}" 2>/dev/null; then
      echo "The action server stopped; see var/log/actions.log" >&2
      tail -20 var/log/actions.log >&2
      exit 1
    fi
    sleep 0.5
  done
fi

if [ "${1:-}" = "--shell" ]; then
  # Its own port, so it works next to a running `make run`.
  "$BIN/rasa" shell --endpoints endpoints.yml --port "${SHELL_PORT:-5006}"
  exit 0
fi

echo "Starting the bot on http://localhost:$RASA_PORT"
"$BIN/rasa" run --enable-api --interface 127.0.0.1 --port "$RASA_PORT" \
  --endpoints endpoints.yml --credentials credentials.yml &
rasa_pid=$!
pids+=("$rasa_pid")

for _ in $(seq 1 240); do
  if curl -fsS "http://localhost:$RASA_PORT/status" >/dev/null 2>&1 \
    || curl -fsS "http://localhost:$RASA_PORT/" >/dev/null 2>&1; then
    cat <<MSG

The bot is ready.
  REST:   curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"hi"}'
  Chat in the terminal: make shell (in another window)
Press Ctrl-C to stop.
MSG
    break
  fi
  if ! kill -0 "$rasa_pid" 2>/dev/null; then echo "The Rasa server stopped." >&2; exit 1; fi
  sleep 0.5
done
wait "$rasa_pid"
