# Everything a user or developer needs is one of these targets (see README).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
PY      := $(BIN)/python
RASA    := $(BIN)/rasa
MODEL   := models/sciatica.tar.gz
STAMP   := $(VENV)/.installed
TRAINING_INPUTS := config.yml domain.yml $(shell find data/nlu data/rules data/stories -name '*.yml' 2>/dev/null)
# Quiet TensorFlow's start-up chatter.
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
# No usage data or crash reports leave the machine.
export RASA_TELEMETRY_ENABLED := false

.PHONY: help install run shell train test lint unit validate conversation-test integration eval clean

help:
	@echo "make run    install what is missing, train if needed, start the bot"
	@echo "make test   install what is missing, run every check"
	@echo "make shell  chat with the bot in the terminal"
	@echo "make eval   NLU, context, triage and answer evaluation (writes docs/)"
	@echo "make lint | train | install | clean"

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml scripts/install.sh
	@bash scripts/install.sh "$(BOT_PYTHON)"
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
	$(BIN)/pytest -m "not integration" -q

validate: $(STAMP)
	$(RASA) data validate --fail-on-warnings

conversation-test: $(MODEL)
	$(RASA) test core --stories tests/test_stories.yml --fail-on-prediction-errors --out results/core

integration: $(MODEL)
	$(BIN)/pytest -m integration -q

# Cheap to expensive: lint, unit tests, data validation, training, conversation tests,
# then the tests that talk to the real servers.
test: lint unit validate train conversation-test integration

eval: $(MODEL)
	$(PY) -m scripts.evaluate

clean:
	rm -rf models results var/*.db .pytest_cache .ruff_cache
