# Everything a user or developer needs is one of these targets (see README).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
PY      := $(BIN)/python
RASA    := $(BIN)/rasa
MODEL   := models/sciatica.tar.gz
STAMP   := $(VENV)/.installed
# Programs only the tests and the scaled setup need (Debian packages): a real browser, nginx and
# redis-server.
SYSTEM_STAMP := $(VENV)/.system-tools
TRAINING_INPUTS := config.yml domain.yml $(shell find data/nlu data/rules data/stories -name '*.yml' 2>/dev/null)
# Quiet TensorFlow's start-up chatter.
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
# No usage data or crash reports leave the machine.
export RASA_TELEMETRY_ENABLED := false

.PHONY: help install run shell train test lint unit validate conversation-test integration \
	widget-test cluster-test run-cluster bench eval retention api-token telegram-webhook clean

help:
	@echo "make run    install what is missing, train if needed, start the bot"
	@echo "make test   install what is missing, run every check"
	@echo "make shell  chat with the bot in the terminal"
	@echo "make eval   NLU, context, triage and answer evaluation (writes docs/)"
	@echo "make run-cluster  the scaled setup: nginx, Rasa replicas, PostgreSQL, Redis"
	@echo "make bench  latency, throughput, memory and training time (writes docs/)"
	@echo "make retention  delete conversations idle for BOT_RETENTION_DAYS"
	@echo "make api-token  an admin token for the HTTP API (RASA_JWT_SECRET)"
	@echo "make telegram-webhook  register the Telegram webhook (docs/telegram.md)"
	@echo "make lint | train | install | clean"

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml scripts/install.sh web/package-lock.json
	@bash scripts/install.sh "$(BOT_PYTHON)"
	@touch $@

$(SYSTEM_STAMP): scripts/install-system.sh | $(STAMP)
	@bash scripts/install-system.sh chromium nginx redis-server
	@touch $@

# Trains only when the training data, domain or config changed since the model was built.
$(MODEL): $(TRAINING_INPUTS) | $(STAMP)
	$(RASA) train --fixed-model-name sciatica --out models
	@touch $@

train: $(MODEL)

run: $(MODEL)
	@bash scripts/run.sh

shell: $(MODEL)
	@bash scripts/run.sh --shell

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: $(STAMP)
	$(BIN)/pytest -m "not integration and not cluster" -q

validate: $(STAMP)
	$(RASA) data validate --fail-on-warnings

conversation-test: $(MODEL)
	$(RASA) test core --stories tests/test_stories.yml --fail-on-prediction-errors --out results/core

# The real servers over HTTP: conversations, security, Slack and Telegram (against local
# stand-ins for their APIs).
integration: $(MODEL) $(SYSTEM_STAMP)
	$(BIN)/pytest -m "integration and not widget and not cluster" -q

# The chat page in a real headless Chromium.
widget-test: $(MODEL) $(SYSTEM_STAMP)
	$(BIN)/pytest -m widget -q

# The scaled setup against the real PostgreSQL and Redis: lock store, load, faults, rate limit.
cluster-test: $(MODEL) $(SYSTEM_STAMP)
	$(BIN)/pytest -m cluster -q

# Cheap to expensive: lint, unit tests, data validation, training, conversation tests,
# then the tests that talk to the real servers, the browser and the scaled setup.
test: lint unit validate train conversation-test integration widget-test cluster-test

run-cluster: $(MODEL) $(SYSTEM_STAMP)
	$(PY) -m scripts.cluster run

bench: $(MODEL) $(SYSTEM_STAMP)
	$(PY) -m scripts.bench

retention: $(STAMP)
	$(PY) -m stores.retention --endpoints endpoints.yml

api-token: $(STAMP)
	@if [ -z "$${RASA_JWT_SECRET:-}" ] && [ -f var/secrets.env ]; then source var/secrets.env; fi; \
	RASA_JWT_SECRET="$${RASA_JWT_SECRET:-}" $(PY) -m scripts.api_token

# Registers the bot's Telegram webhook once (TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET and
# TELEGRAM_WEBHOOK_URL; see docs/telegram.md). Bot processes never do this themselves.
telegram-webhook: $(STAMP)
	$(PY) -m scripts.telegram_webhook set-webhook

eval: $(MODEL)
	$(PY) -m scripts.evaluate

clean:
	rm -rf models results var/*.db .pytest_cache .ruff_cache
