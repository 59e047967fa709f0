#!/usr/bin/env bash
# Starts the action server, the Rasa server and the retention job with the embedded defaults
# (SQLite tracker store under var/, in-memory lock store). Ctrl-C stops them all.
#   scripts/run.sh          serve the chat page, the REST API and the channels on
#                           http://localhost:${RASA_PORT:-5005}
#   scripts/run.sh --shell  chat in the terminal instead
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
mkdir -p var/log
chmod 700 var

# Secrets come from the environment. For a local run, missing ones are generated once and kept
# in var/secrets.env (readable by you only, never committed), so `make shell` and a restarted
# `make run` agree with a running action server.
SECRETS=var/secrets.env
[ -f "$SECRETS" ] || (umask 077 && : >"$SECRETS")
for name in ACTION_SERVER_TOKEN RASA_JWT_SECRET; do
  if [ -z "${!name:-}" ]; then  # the environment wins over the file
    value="$(sed -n "s/^$name=//p" "$SECRETS" | tail -1)"
    [ -n "$value" ] && printf -v "$name" '%s' "$value"
  fi
  if [ -z "${!name:-}" ]; then
    value="$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')"
    printf '%s=%s\n' "$name" "$value" >>"$SECRETS"
    printf -v "$name" '%s' "$value"
  fi
  export "${name?}"
done
# Channels stay off until their variables are set (see README); credentials.yml names them.
for name in SLACK_BOT_TOKEN SLACK_SIGNING_SECRET TELEGRAM_BOT_TOKEN TELEGRAM_BOT_USERNAME \
  TELEGRAM_WEBHOOK_SECRET; do
  export "$name=${!name:-}"
done
# Web pages allowed to call the bot from a browser (CORS and the chat widget's socket).
export BOT_ALLOWED_ORIGINS="${BOT_ALLOWED_ORIGINS:-http://localhost:$RASA_PORT,http://127.0.0.1:$RASA_PORT}"
IFS=',' read -r -a cors_origins <<<"$BOT_ALLOWED_ORIGINS"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

actions_up() { curl -fsS "http://localhost:$ACTIONS_PORT/health" >/dev/null 2>&1; }

# endpoints.yml names the action server on port 5055; on another port Rasa gets a copy that
# names that port.
ENDPOINTS=endpoints.yml
if [ "$ACTIONS_PORT" != 5055 ]; then
  ENDPOINTS=var/endpoints.yml
  sed "s#localhost:5055/#localhost:$ACTIONS_PORT/#" endpoints.yml >"$ENDPOINTS"
fi

actions_pid=""
if actions_up; then
  echo "Using the action server already running on port $ACTIONS_PORT"
else
  echo "Starting the action server on port $ACTIONS_PORT (log: var/log/actions.log)"
  "$BIN/python" -m actions.server --port "$ACTIONS_PORT" >var/log/actions.log 2>&1 &
  actions_pid=$!
  pids+=("$actions_pid")
fi
# The action server loads while Rasa loads its model; both are waited for before "ready".
wait_for_actions() {
  for _ in $(seq 1 240); do
    if actions_up; then return 0; fi
    if [ -n "$actions_pid" ] && ! kill -0 "$actions_pid" 2>/dev/null; then
      echo "The action server stopped; see var/log/actions.log" >&2
      tail -20 var/log/actions.log >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "The action server did not answer on port $ACTIONS_PORT; see var/log/actions.log" >&2
  exit 1
}

if [ "${1:-}" = "--shell" ]; then
  wait_for_actions
  # Its own port, so it works next to a running `make run`. `rasa shell` serves the terminal
  # chat through an unauthenticated REST webhook and, like `rasa run`, listens on every
  # interface unless told otherwise: loopback only.
  "$BIN/rasa" shell --endpoints "$ENDPOINTS" --interface 127.0.0.1 --port "${SHELL_PORT:-5006}"
  exit 0
fi

# Deletes conversations idle for longer than BOT_RETENTION_DAYS (default 30), now and daily.
"$BIN/python" -m stores.retention --endpoints "$ENDPOINTS" --every 24 >var/log/retention.log 2>&1 &
pids+=($!)

echo "Starting the bot on http://localhost:$RASA_PORT"
# scripts.rasa_server is `rasa` that takes the JWT secret from RASA_JWT_SECRET, so the secret
# is never on a command line (which every user of the machine can read in `ps`).
"$BIN/python" -m scripts.rasa_server run --enable-api --interface 127.0.0.1 --port "$RASA_PORT" \
  --jwt-method HS256 --cors "${cors_origins[@]}" \
  --endpoints "$ENDPOINTS" --credentials credentials.yml &
rasa_pid=$!
pids+=("$rasa_pid")

# Loading the model takes a minute on a quiet machine and much longer on a busy one: wait for as
# long as the Rasa server is alive.
while true; do
  if curl -fsS "http://localhost:$RASA_PORT/" >/dev/null 2>&1; then
    wait_for_actions
    # The log shows how to mint an API token, never a token: logs get copied and shared.
    cat <<MSG

The bot is ready.
  Chat in the browser:  http://localhost:$RASA_PORT/chat/
  REST:   curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"hi"}'
  Chat in the terminal: make shell (in another window)
  HTTP API (JWT; \`make api-token\` mints an admin token from this machine's secret):
          curl -s -H "Authorization: Bearer \$(make -s api-token)" localhost:$RASA_PORT/status
Press Ctrl-C to stop.
MSG
    break
  fi
  if ! kill -0 "$rasa_pid" 2>/dev/null; then echo "The Rasa server stopped." >&2; exit 1; fi
  if [ -n "$actions_pid" ] && ! kill -0 "$actions_pid" 2>/dev/null; then
    wait_for_actions  # says why and stops
  fi
  sleep 0.5
done
wait "$rasa_pid"
