r"""`make bench`: how fast the bot answers, how much it holds, how long it trains.

One run on one machine measures, next to each other:

- per-turn latency (p50/p95/p99) and throughput of the bot as one instance (action server + Rasa
  with the SQLite tracker store, as ``make run`` starts them), of the scaled setup
  (``scripts.cluster``: nginx, Rasa replicas, action servers, PostgreSQL, Redis) and of a stock
  ``rasa init`` bot as the baseline, at 1, 10 and 50 concurrent conversations. Each conversation
  is a fresh sender playing a 20-turn script over ``POST /webhooks/rest/webhook``: our bot's
  script greets, describes symptoms, answers the screening questions (button payloads and free
  text), asks questions (some with follow-ups), sometimes reports a red flag, thanks and says
  goodbye; the stock bot's script uses its own intents;
- training time of this bot (``rasa train --force`` into a temporary directory with its own
  cache, so the shared ``models/`` and ``.rasa/`` are untouched) and of the stock bot;
- resident memory (RSS) of every process after the load, and the CPU each used during it;
- where the time goes: a py-spy profile of the Rasa and action servers under load and the cost
  of the bot's own language layer (``bot.understanding.understand``) per message, measured
  in-process.

Results go to docs/benchmarks.md (tables, goals, machine facts, the exact command),
docs/benchmarks.png (latency percentiles by concurrency) and docs/benchmarks.json (raw numbers).

    python -m scripts.bench            # the full run (about 20-25 minutes on 2 cores)
    python -m scripts.bench --quick    # levels 1 and 10, fewer conversations, no training
                                       # (about 10 minutes; --train adds about 5)
    python -m scripts.bench --url http://127.0.0.1:5005 --levels 1,10   # an already running bot
    python -m scripts.bench --quick --levels 1 --min-conversations 1 --no-stock --no-scaled \
        --no-profile --out /tmp/bench  # a smoke test: one instance, one conversation (minutes)
"""

from __future__ import annotations

import time

# Which module does what (each says more in its own docstring):
#
#   workload  what is sent: the scripted conversations and what each reply must contain
#   driver    the load: conversations at a given concurrency, timings, percentiles, CPU, memory
#   setups    the bots under test (one instance, scaled, stock `rasa init`): start, stop, training
#   profile   where the time goes: py-spy on the servers, the language layer timed in-process
#   findings  the goals met or not, and what the numbers say in words
#   report    docs/benchmarks.md, .png and .json
#   run       the command line and the order of a run (``python -m scripts.bench``)


def log(message: str) -> None:
    """A progress line on stdout, with the time."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
