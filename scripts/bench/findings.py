"""What the numbers say: each goal met or not, and the run's main points in words.

The goals: p95 latency at one conversation at a time at most 1.3x the stock bot's, throughput at
50 concurrent conversations at least 0.8x the stock bot's, no error at 50 concurrent
conversations, and training time. The findings explain the figures of this run (what
the profile shows, why the latency ratios are what they are) for the report's last section.
"""

from __future__ import annotations

from typing import Any

# The goals.
P95_RATIO_GOAL = 1.3  # p95 per-turn latency at most this many times the stock bot's ...
P95_LEVEL = 1  # ... with one conversation at a time
THROUGHPUT_RATIO_GOAL = 0.8  # turns per second at least this share of the stock bot's ...
THROUGHPUT_LEVEL = 50  # ... with this many concurrent conversations
TRAINING_GOAL_S = 300.0  # training under 5 minutes on 2 cores
ERROR_FREE_LEVEL = 50  # this many concurrent conversations with no error


def _level(results: dict[str, Any], setup: str, concurrency: int) -> dict[str, Any] | None:
    for level in results.get("setups", {}).get(setup, {}).get("levels", []):
        if level["concurrency"] == concurrency:
            return level
    return None


def evaluate_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per goal and setup: what was measured and whether the goal is met (None when it
    could not be measured in this run)."""
    rows: list[dict[str, Any]] = []
    for setup in ("single", "scaled"):
        if setup not in results.get("setups", {}):
            continue
        ours, stock = _level(results, setup, P95_LEVEL), _level(results, "stock", P95_LEVEL)
        if ours and stock and stock["latency_ms"]["p95"] and ours["turns"]:
            ratio = ours["latency_ms"]["p95"] / stock["latency_ms"]["p95"]
            rows.append(
                {
                    "goal": f"p95 per-turn latency at most {P95_RATIO_GOAL}x the stock bot's",
                    "setup": setup,
                    "concurrency": P95_LEVEL,
                    "measured": f"{ours['latency_ms']['p95']:.0f} ms vs "
                    f"{stock['latency_ms']['p95']:.0f} ms = {ratio:.2f}x",
                    "value": round(ratio, 3),
                    "met": ratio <= P95_RATIO_GOAL,
                }
            )
        ours, stock = (
            _level(results, setup, THROUGHPUT_LEVEL),
            _level(results, "stock", THROUGHPUT_LEVEL),
        )
        if ours and stock and stock["throughput_tps"] and ours["throughput_tps"] is not None:
            ratio = ours["throughput_tps"] / stock["throughput_tps"]
            rows.append(
                {
                    "goal": f"throughput at least {THROUGHPUT_RATIO_GOAL}x the stock bot's",
                    "setup": setup,
                    "concurrency": THROUGHPUT_LEVEL,
                    "measured": f"{ours['throughput_tps']:.1f} vs "
                    f"{stock['throughput_tps']:.1f} turns/s = {ratio:.2f}x",
                    "value": round(ratio, 3),
                    "met": ratio >= THROUGHPUT_RATIO_GOAL,
                }
            )
        level = _level(results, setup, ERROR_FREE_LEVEL)
        rows.append(
            {
                "goal": f"{ERROR_FREE_LEVEL} concurrent conversations with no error",
                "setup": setup,
                "concurrency": ERROR_FREE_LEVEL,
                "measured": (
                    f"{level['errors']} errors in {level['turns']} turns"
                    if level
                    else "not measured in this run"
                ),
                "value": level["errors"] if level else None,
                "met": (level["errors"] == 0 and level["turns"] > 0) if level else None,
            }
        )
    training = results.get("training")
    trained = bool(training) and training.get("returncode") == 0
    rows.append(
        {
            "goal": f"training under {TRAINING_GOAL_S / 60:.0f} minutes on "
            f"{results.get('machine', {}).get('cores', '?')} cores",
            "setup": "single",
            "concurrency": None,
            "measured": (
                format_duration(training["wall_s"])
                if trained
                else ("failed" if training else "not measured in this run")
            ),
            "value": training.get("wall_s") if trained else None,
            "met": (training["wall_s"] < TRAINING_GOAL_S)
            if trained
            else (False if training else None),
        }
    )
    return rows


def format_duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def _share(data: dict[str, Any], prefix: str) -> float | None:
    for row in data.get("categories", []):
        if row["category"].strip().startswith(prefix):
            return row["share"]
    return None


def profile_findings(results: dict[str, Any]) -> list[str]:
    """The profile's main points in words, from this run's numbers."""
    processes = results["profile"]["processes"]
    rasa, actions = processes.get("Rasa server"), processes.get("action server")
    found = []
    if rasa and rasa["busy_samples"]:
        ranked = sorted(
            (r for r in rasa["categories"] if "all of it" not in r["category"]),
            key=lambda r: -r["share"],
        )
        found.append(
            "- Rasa server, largest shares: "
            + "; ".join(f"{r['category'].strip()} {r['share']:.0f}%" for r in ranked[:4])
            + "."
        )
        validation = _share(rasa, "of which: validating")
        if validation and validation >= 5:
            found.append(
                f"- {validation:.0f}% of the Rasa server's busy time goes into validating the "
                "action server's replies: Rasa 3.6's `RemoteAction._validate_action_result` calls "
                "`jsonschema.validate`, which checks the (constant) response schema against the "
                "JSON Schema metaschema again on every custom action call before checking the "
                "reply. This bot makes one such call per message (`action_turn`)."
            )
    if rasa and actions and "working_pct" in actions:
        found.append(
            f"- During the profiled load the Rasa server was at work "
            f"{rasa['working_pct']:.0f}% of the time, the action server "
            f"{actions['working_pct']:.0f}%"
            + (
                ": one Rasa process, on one core, is what limits a single instance."
                if actions["working_pct"] < rasa["working_pct"] / 2
                else "."
            )
        )
    found += _load_findings(results)
    cost = results.get("language_layer")
    single = _level(results, "single", 1)
    if cost and single and single["latency_ms"]["p50"]:
        found.append(
            f"- The bot's own language layer costs {cost['route_ms']:.1f} ms per message in the "
            f"NLU component (and about as much again for each analysis in the action server), "
            f"against a median turn of {single['latency_ms']['p50']:.0f} ms."
        )
    return [*found, ""] if found else []


def _load_findings(results: dict[str, Any]) -> list[str]:
    """Why the latency ratios are what they are, from this run's throughput and latency."""
    found = []
    levels = [
        level["concurrency"]
        for level in results.get("setups", {}).get("stock", {}).get("levels", [])
    ]
    if levels:
        top = max(levels)
        stock, single = _level(results, "stock", top), _level(results, "single", top)
        if stock and single and stock["throughput_tps"] and single["throughput_tps"]:
            work = stock["throughput_tps"] / single["throughput_tps"]
            ratio = single["latency_ms"]["p95"] / max(stock["latency_ms"]["p95"], 1e-9)
            found.append(
                f"- At {top} concurrent conversations every process is saturated and turns "
                f"queue, so latency follows throughput: the stock bot completed "
                f"{stock['throughput_tps']:.0f} turns/s, one instance of this bot "
                f"{single['throughput_tps']:.0f} turns/s, i.e. each turn of this bot takes "
                f"about {work:.2f}x the stock bot's processing time, and its p95 is "
                f"{ratio:.2f}x. This bot does more per message (the red-flag analysis in the "
                "NLU component, a custom action call after every message, for which Rasa sends "
                "the whole conversation as JSON, and an SQL tracker store where the stock bot "
                "keeps conversations in memory) and less elsewhere: a small classifier without "
                "transformer layers, no response selector, and one rule instead of the stock "
                "bot's learned dialogue policies (TED, UnexpecTED, memoization)."
            )
    single, scaled = _level(results, "single", 1), _level(results, "scaled", 1)
    if single and scaled:
        extra = scaled["latency_ms"]["p50"] - single["latency_ms"]["p50"]
        found.append(
            f"- One conversation at a time, the scaled setup's median turn is {extra:+.0f} ms "
            "against one instance: nginx in front, PostgreSQL instead of SQLite and Redis locks "
            "are network round trips on every message. Its purpose is more capacity, not a "
            f"faster turn, and on this machine's {results['machine']['cores']} cores its Rasa "
            "replicas, action servers, nginx, PostgreSQL, Redis and the load generator share the "
            "same CPUs, so it cannot show the capacity of separate machines."
        )
    return found
