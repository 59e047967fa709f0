"""The report: docs/benchmarks.md (tables and findings), .png (latency plot) and .json (raw).

``write`` puts all three in a directory; ``render_markdown`` and ``plot`` only read the results
dictionary a run builds (``scripts.bench.run``), so the report can be written again from a saved
benchmarks.json (``python -m scripts.bench --from-json docs/benchmarks.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scripts.bench import log
from scripts.bench.findings import format_duration, profile_findings, verdict
from scripts.bench.workload import TURNS_PER_CONVERSATION
from scripts.processes import BIN, ROOT

SETUP_LABELS = {
    "single": "our bot, one instance",
    "scaled": "our bot, scaled (nginx + replicas)",
    "stock": "stock `rasa init` bot",
    "url": "the bot at --url",
}


def format_ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def render_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    settings = results["settings"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`scripts/bench/`); do not edit by hand. "
        + (
            "**This is a quick development run** (fewer conversations and levels): "
            "the figures only show that the benchmark works. "
            if settings.get("quick")
            else ""
        )
        + "All figures come from **one run on the machine named below**, with the load generator "
        "on the same machine; other work running at the same time shows in the CPU table as "
        "'other processes'.",
        "",
        f"- Command: `{results['command']}`",
        f"- Date: {results['started']} to {results['finished']} (UTC)",
        f"- Machine: {machine['host']}, {machine['cores']} cores, {machine['cpu']}, "
        f"{machine['memory_gb']} GB RAM, {machine['os']}; load average at start "
        f"{', '.join(str(x) for x in machine['load_average_at_start'])}",
        "- Versions: Python "
        + machine["python"]
        + ", "
        + ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v),
        "",
        "## Goals",
        "",
        "| goal | setup | measured | result |",
        "|---|---|---|---|",
    ]
    for row in results["goals"]:
        where = SETUP_LABELS.get(row["setup"], row["setup"])
        if row["concurrency"] and ("p95" in row["goal"] or "throughput" in row["goal"]):
            where += f", {row['concurrency']} concurrent"
        lines.append(f"| {row['goal']} | {where} | {row['measured']} | {verdict(row['met'])} |")

    lines += [
        "",
        "## Per-turn latency and throughput",
        "",
        f"Each conversation is a fresh sender playing a {TURNS_PER_CONVERSATION}-turn script; "
        "'concurrent' conversations run at the same time, each sending its next message as soon "
        "as the reply arrives (no pause, so this is the most load that many people can make). "
        "Latency is measured per turn from sending the request to reading the whole reply, errors "
        "included. An error is a status other than 200, no reply or a failed request; an "
        "unexpected reply lacks what the turn must get (the emergency advice after a red flag, a "
        "source after a question, the first screening question after symptoms). Throughput is "
        "completed turns per second of the level's wall time.",
        "",
        "| setup | concurrent | conversations | turns | errors | unexpected | p50 ms | p95 ms "
        "| p99 ms | max ms | turns/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, setup in results["setups"].items():
        for lv in setup["levels"]:
            lat = lv["latency_ms"]
            lines.append(
                f"| {SETUP_LABELS.get(name, name)} | {lv['concurrency']} | {lv['conversations']} "
                f"| {lv['turns']} | {lv['errors']} | {lv['unexpected']} | {format_ms(lat['p50'])} "
                f"| {format_ms(lat['p95'])} | {format_ms(lat['p99'])} | {format_ms(lat['max'])} "
                f"| {lv['throughput_tps']} |"
            )
    error_notes = [
        f"- {SETUP_LABELS.get(name, name)}, {lv['concurrency']} concurrent: "
        + ", ".join(f"{k} x{v}" for k, v in lv["error_kinds"].items())
        + (
            "; unexpected replies by turn kind: "
            + ", ".join(f"{k} x{v}" for k, v in lv["unexpected_kinds"].items())
            if lv["unexpected_kinds"]
            else ""
        )
        for name, setup in results["setups"].items()
        for lv in setup["levels"]
        if lv["error_kinds"] or lv["unexpected_kinds"]
    ]
    if error_notes:
        lines += ["", "Errors and unexpected replies:", "", *error_notes]
    lines += ["", "![Latency percentiles by concurrency](benchmarks.png)", ""]

    kinds = results.get("by_kind", {})
    if kinds:
        lines += [
            "### Latency by kind of turn (our bot, one instance, one conversation at a time)",
            "",
            "| turn | turns | p50 ms | p95 ms | max ms |",
            "|---|---|---|---|---|",
        ]
        for kind, row in kinds.items():
            lines.append(
                f"| {kind} | {row['turns']} | {format_ms(row['p50'])} | {format_ms(row['p95'])} "
                f"| {format_ms(row['max'])} |"
            )
        lines.append("")

    lines += [
        "## CPU during the load",
        "",
        "Percent of one core used by each process during each level (100% = one core busy the "
        "whole time); 'machine busy' is the share of all cores in use, 'other processes' the part "
        "of it used by neither the bot nor the load generator.",
        "",
        "| setup | concurrent | CPU by process | load generator | machine busy | other processes |",
        "|---|---|---|---|---|---|",
    ]
    for name, setup in results["setups"].items():
        for lv in setup["levels"]:
            cpu = dict(lv.get("cpu", {}))
            if not cpu:
                continue
            extra = {"load generator", "machine busy %", "other processes %"}
            procs = ", ".join(f"{k} {v:.0f}%" for k, v in cpu.items() if k not in extra)
            lines.append(
                f"| {SETUP_LABELS.get(name, name)} | {lv['concurrency']} | {procs} "
                f"| {cpu['load generator']:.0f}% | {cpu['machine busy %']:.0f}% "
                f"| {cpu['other processes %']:.0f}% |"
            )

    lines += [
        "",
        "## Memory after the load",
        "",
        "Resident memory (RSS, psutil) of each process, children included, after the last level.",
        "",
        "| setup | process | RSS MB |",
        "|---|---|---|",
    ]
    for name, setup in results["setups"].items():
        rows = setup.get("memory", [])
        for row in rows:
            lines.append(
                f"| {SETUP_LABELS.get(name, name)} | {row['process']} | {row['rss_mb']:.0f} |"
            )
        if len(rows) > 1:
            total = sum(r["rss_mb"] for r in rows)
            lines.append(f"| {SETUP_LABELS.get(name, name)} | **total** | {total:.0f} |")

    lines += [
        "",
        "## Training",
        "",
        "Wall time from start to the model on disk (Python and TensorFlow start-up included); "
        "'other processes' is the share of the machine's cores used by anything else meanwhile.",
        "",
        "| bot | command | wall | CPU time | other processes | result |",
        "|---|---|---|---|---|---|",
    ]
    for label, key in (
        ("our bot", "training"),
        ("stock bot (`rasa init`, trains too)", "stock_init"),
    ):
        run = results.get(key)
        if not run:
            lines.append(f"| {label} | – | not measured in this run | – | – | – |")
        elif "reused" in run:
            lines.append(f"| {label} | – | reused {run['reused']} | – | – | – |")
        else:
            result = "ok" if run["returncode"] == 0 else f"failed ({run['returncode']})"
            other = run.get("other_processes_pct")
            lines.append(
                f"| {label} | `{_short_command(run['command'])}` "
                f"| {format_duration(run['wall_s'])} | {format_duration(run['cpu_s'])} "
                f"| {'–' if other is None else f'{other:.0f}%'} | {result} |"
            )

    lines += _profile_section(results)
    lines += [
        "",
        "## Setups",
        "",
        *[
            f"- {SETUP_LABELS.get(name, name)}: " + "; ".join(setup.get("notes", []))
            for name, setup in results["setups"].items()
        ],
        *[f"- {note}" for note in results.get("notes", [])],
        "",
        "Raw numbers (every turn's latency) are in `benchmarks.json`.",
        "",
    ]
    return "\n".join(lines)


def _short_command(command: str) -> str:
    return command.replace(str(BIN) + "/", "").replace(str(ROOT) + "/", "")


def _profile_section(results: dict[str, Any]) -> list[str]:
    profile = results.get("profile")
    cost = results.get("language_layer")
    if not profile and not cost:
        return []
    lines = ["", "## Where the time goes", ""]
    if profile:
        lines += [
            f"py-spy sampled the one-instance Rasa server and action server ({profile['rate']} "
            f"samples/s) during {profile['conversations']} extra conversations at "
            f"{profile['concurrency']} concurrent ({profile.get('wall_s', '?')} s), not counted "
            "above. Samples in which a process was waiting for work are left out; the shares are "
            "of the samples in which it was at work, and inclusive: a sample counts for every "
            "category on its stack, so they do not add up to 100%.",
            "",
        ]
        lines += profile_findings(results)
        for label, data in profile["processes"].items():
            lines += [
                f"**{label}**: {data['busy_samples']} samples at work, "
                f"{data.get('working_pct', 0):.0f}% of the load's wall time",
                "",
                "| where | share of busy samples |",
                "|---|---|",
                *[f"| {row['category']} | {row['share']:.1f}% |" for row in data["categories"]],
                "",
            ]
            if data["top_project_functions"]:
                lines += [
                    "| project function | inclusive | self |",
                    "|---|---|---|",
                    *[
                        f"| `{row['function']}` | {row['inclusive']:.1f}% | {row['self']:.1f}% |"
                        for row in data["top_project_functions"]
                    ],
                    "",
                ]
            if data.get("top_self"):
                lines += [
                    "| hottest code (innermost frame) | self |",
                    "|---|---|",
                    *[f"| `{row['function']}` | {row['self']:.1f}% |" for row in data["top_self"]],
                    "",
                ]
    if cost:
        pipes = ", ".join(f"{name} {ms:.2f}" for name, ms in cost["pipes_ms"].items())
        lines += [
            f"The bot's own language layer, timed in one process over {cost['messages']} free-text "
            f"messages of the scripts: `bot.understanding.understand` (what the NLU component "
            f"runs per message) {cost['route_ms']:.1f} ms, of which `bot.nlp.analyse` "
            f"{cost['analyse_ms']:.1f} ms; by spaCy pipe (ms): {pipes}.",
            "",
        ]
    return lines


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {"single": ("tab:blue", "o"), "scaled": ("tab:green", "s"), "stock": ("tab:gray", "^")}
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
    for ax, key in zip(axes, ("p50", "p95", "p99"), strict=True):
        for name, setup in results["setups"].items():
            points = [
                (lv["concurrency"], lv["latency_ms"][key])
                for lv in setup["levels"]
                if lv["latency_ms"][key] is not None
            ]
            if not points:
                continue
            colour, marker = styles.get(name, ("tab:red", "x"))
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker=marker, color=colour, label=SETUP_LABELS.get(name, name))
        ax.set_title(f"{key} per-turn latency")
        ax.set_xlabel("concurrent conversations")
        ax.set_xscale("log")
        ax.set_yscale("log")
        levels = sorted(
            {lv["concurrency"] for s in results["setups"].values() for lv in s["levels"]}
        )
        ax.set_xticks(levels)
        ax.set_xticklabels([str(x) for x in levels])
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("ms (log scale)")
    axes[0].legend(fontsize=8)
    figure.suptitle(
        f"{results['machine']['cores']} cores, {results['machine']['cpu']}, {results['started']}"
        + (" (quick run)" if results["settings"].get("quick") else ""),
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "benchmarks.md").write_text(render_markdown(results))
    plot(results, out / "benchmarks.png")
    log(f"wrote {out / 'benchmarks.md'}, benchmarks.png and benchmarks.json")
