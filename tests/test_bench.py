"""The benchmark's own logic: statistics, reply checks, scripts, profiles, goals and the report.

No server is started here; `make bench` is what runs the real thing.
"""

from __future__ import annotations

import json

import pytest

from scripts.bench.driver import TurnRecord, by_kind, level_summary, percentile, summarise
from scripts.bench.findings import _load_findings, evaluate_goals
from scripts.bench.profile import (
    ACTION_CATEGORIES,
    RASA_CATEGORIES,
    busy,
    category_shares,
    parse_collapsed,
    top_functions,
)
from scripts.bench.report import plot, render_markdown
from scripts.bench.run import main
from scripts.bench.setups import cluster_processes, server_env
from scripts.bench.workload import (
    GOODBYES,
    MAX_SCREENING_ANSWERS,
    QUESTIONS,
    RED_FLAG_PLACES,
    SCREENING_TOPICS,
    STOCK_WORDS,
    SYMPTOMS,
    TURNS_PER_CONVERSATION,
    SciaticaConversation,
    StockConversation,
    Turn,
    check_reply,
    make_conversation,
    screening_question,
    screening_topic,
    script_messages,
)

QUESTION_BUTTONS = [
    {"title": "Yes", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
    {"title": "Not sure", "payload": "/unsure"},
]


def screening_reply(number: int, text: str) -> list[dict]:
    return [{"text": f"({number}/8) {text}", "buttons": QUESTION_BUTTONS}]


# --- statistics --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4, 5], 50, 3),
        ([1, 2, 3, 4], 50, 2.5),
        ([10, 20], 95, 19.5),
        (list(range(1, 101)), 99, 99.01),
        ([7], 99, 7),
        ([5, 1, 4, 2, 3], 0, 1),
        ([5, 1, 4, 2, 3], 100, 5),
    ],
)
def test_percentile_interpolates_between_ranks(values, q, expected) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_of_latencies() -> None:
    summary = summarise([100.0] * 94 + [200.0] * 5 + [1000.0])
    assert summary["p50"] == 100.0
    assert summary["p95"] == 200.0
    assert 200.0 < summary["p99"] < 1000.0
    assert summary["max"] == 1000.0
    assert summary["mean"] == pytest.approx(114.0)
    assert summarise([])["p95"] is None


def test_level_summary_counts_errors_unexpected_replies_and_throughput() -> None:
    records = [
        TurnRecord(0, 1, "greeting", 100.0, 200),
        TurnRecord(0, 2, "symptoms", 300.0, 200, unexpected=True),
        TurnRecord(1, 1, "greeting", 50.0, 503, error="HTTP 503"),
        TurnRecord(1, 2, "symptoms", 120000.0, 0, error="TimeoutError"),
    ]
    summary = level_summary(records, wall_s=2.0, concurrency=2, conversations=2)
    assert summary["turns"] == 4
    assert summary["errors"] == 2
    assert summary["error_kinds"] == {"HTTP 503": 1, "TimeoutError": 1}
    assert summary["unexpected"] == 1
    assert summary["unexpected_kinds"] == {"symptoms": 1}
    assert summary["throughput_tps"] == 2.0
    assert summary["latency_ms"]["max"] == 120000.0  # failed turns count with the time they took


def test_latency_by_kind_of_turn() -> None:
    raw = [
        {"kind": "question", "latency_ms": 100.0},
        {"kind": "question", "latency_ms": 300.0},
        {"kind": "symptoms", "latency_ms": 250.0},
    ]
    kinds = by_kind(raw)
    assert kinds["question"]["turns"] == 2
    assert kinds["question"]["p50"] == 200.0
    assert kinds["symptoms"]["max"] == 250.0


# --- replies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (503, [{"text": "Sorry, something went wrong"}], "HTTP 503"),
        (200, [], "empty reply"),
        (200, [{"recipient_id": "x"}], "empty reply"),
        (200, {"error": "oops"}, "not a list of messages"),
        (200, ["hello"], "not a list of messages"),
    ],
)
def test_errors(status, body, error) -> None:
    assert check_reply(Turn("question", "what is sciatica?"), status, body) == (error, False)


def test_a_reply_without_what_the_turn_needs_is_unexpected_not_an_error() -> None:
    turn = Turn("red_flag", "i wet myself", "EMERGENCY")
    assert check_reply(turn, 200, [{"text": "Here is what I understood"}]) == (None, True)
    emergency = [{"text": "EMERGENCY: Get emergency help now."}, {"custom": {"type": "triage"}}]
    assert check_reply(turn, 200, emergency) == (None, False)


def test_an_image_or_custom_payload_is_a_reply() -> None:
    turn = Turn("mood_unhappy", "I am sad")
    assert check_reply(turn, 200, [{"image": "https://example.org/cat.jpg"}]) == (None, False)


def test_only_numbered_questions_with_buttons_are_screening_questions() -> None:
    assert screening_question(screening_reply(3, "Is there any numbness?")) is not None
    follow_up = [
        {"text": "Call your local emergency number if ... Source: X"},
        {"text": "Is this happening to you now?", "buttons": QUESTION_BUTTONS},
    ]
    assert screening_question(follow_up) is None
    ended = screening_reply(8, "Did this start after a fall?") + [{"text": "SELF CARE: ..."}]
    assert screening_question(ended) is None
    assert screening_question([{"text": "(1/8) no buttons"}]) is None


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Have you noticed any change in how your bladder works since this started?", "bladder"),
        ("Have you had any change in your bowels?", "bowel"),
        ("Is there any numbness, tingling or strange feeling between your legs?", "saddle"),
        ("Do you have pain, numbness, tingling or weakness in both legs?", "both_legs"),
        ("Is there weakness in your leg or foot that is getting worse?", "weakness"),
        ("Have you had a fever, chills or night sweats?", "fever"),
        ("Have you ever had cancer, or have you lost weight recently?", "cancer"),
        ("Did this start after a significant fall or accident?", "trauma"),
        ("Something else entirely?", None),
    ],
)
def test_screening_questions_are_recognised_by_their_wording(question, topic) -> None:
    assert screening_topic(question) == topic


# --- scripts -----------------------------------------------------------------------------------


def play(conversation, replies_for) -> list[Turn]:
    """Plays a conversation against a fake bot: ``replies_for(turn, asked)`` gives each reply."""
    turns: list[Turn] = []
    reply: list[dict] = []
    asked = 0
    while (turn := conversation.next_turn(reply)) is not None:
        turns.append(turn)
        reply, asked = replies_for(turn, asked)
    return turns


def screening_bot(turn: Turn, asked: int) -> tuple[list[dict], int]:
    """Asks the eight questions after a symptom description, stops at a red flag."""
    if turn.kind == "red_flag":
        return [{"text": "EMERGENCY: ..."}], 99
    if turn.kind == "symptoms" or (turn.kind == "screening" and 0 < asked < 8):
        cue = list(SCREENING_TOPICS.values())[asked][0]
        return screening_reply(asked + 1, f"Any {cue}?"), asked + 1
    return [{"text": "ok"}], asked


def test_a_conversation_has_twenty_turns_and_answers_all_eight_questions() -> None:
    turns = play(SciaticaConversation("t-0"), screening_bot)
    kinds = [t.kind for t in turns]
    assert len(turns) == TURNS_PER_CONVERSATION
    assert kinds[:2] == ["greeting", "symptoms"]
    assert kinds[2:10] == ["screening"] * 8
    assert set(kinds[10:18]) <= {"question", "follow_up"}
    assert kinds[-2:] == ["thanks", "goodbye"]
    answers = [t.text for t in turns if t.kind == "screening"]
    assert "/deny" in answers and any(not a.startswith("/") for a in answers)


def test_screening_answers_follow_the_bot_when_it_asks_again() -> None:
    def asks_the_first_question_three_times(turn: Turn, asked: int):
        if turn.kind in ("symptoms", "screening") and asked < 3:
            return screening_reply(1, "Any change in how your bladder works?"), asked + 1
        return [{"text": "ok"}], asked

    turns = play(SciaticaConversation("t-1"), asks_the_first_question_three_times)
    assert [t.kind for t in turns].count("screening") == 3
    assert len(turns) == TURNS_PER_CONVERSATION


def test_a_bot_that_asks_for_ever_does_not_take_the_whole_conversation() -> None:
    def always_asks(turn: Turn, asked: int):
        return screening_reply(1, "Any change in how your bladder works?"), asked

    turns = play(SciaticaConversation("t-2"), always_asks)
    assert [t.kind for t in turns].count("screening") == MAX_SCREENING_ANSWERS
    assert turns[-1].kind == "goodbye"


@pytest.mark.parametrize("place", RED_FLAG_PLACES)
def test_a_red_flag_expects_the_emergency_advice_wherever_it_is(place) -> None:
    turns = play(SciaticaConversation("t-3", red_flag=place), screening_bot)
    flags = [t for t in turns if t.kind == "red_flag"]
    assert len(flags) == 1 and flags[0].expect == "EMERGENCY"
    assert len(turns) == TURNS_PER_CONVERSATION
    position = turns.index(flags[0])
    if place == "symptoms":
        assert position == 1
    elif place == "screening":
        assert position == 2
    else:
        assert turns[position - 1].kind in ("question", "follow_up", "screening")
        assert "screening" not in [t.kind for t in turns[position:]]
    # After the red flag every question must get the advice again, before it none does.
    later = [t for t in turns[position:] if t.kind in ("question", "follow_up")]
    earlier = [t for t in turns[:position] if t.kind in ("question", "follow_up")]
    assert later and all(t.expect == "emergency" for t in later)
    assert all(t.expect == "source" for t in earlier)


def test_every_fourth_conversation_has_a_red_flag_in_each_place_in_turn() -> None:
    places = [make_conversation("ours", i, "s").red_flag for i in range(12)]
    assert places.count(None) == 9
    assert [p for p in places if p] == list(RED_FLAG_PLACES)


def test_wording_varies_between_conversations_and_repeats_with_the_seed() -> None:
    def texts(seed: str) -> list[str]:
        return [t.text for t in play(SciaticaConversation(seed), screening_bot)]

    assert texts("a-1") == texts("a-1")
    assert len({tuple(texts(f"a-{i}")) for i in range(10)}) == 10


def test_questions_and_follow_ups_expect_a_source() -> None:
    turns = play(SciaticaConversation("t-4"), screening_bot)
    asked = [t for t in turns if t.kind in ("question", "follow_up")]
    assert asked and all(t.expect == "source" for t in asked)


def test_a_follow_up_comes_right_after_its_question() -> None:
    for seed in range(20):
        conversation = SciaticaConversation(f"f-{seed}")
        for i, turn in enumerate(conversation.questions):
            if turn.kind == "follow_up":
                before = conversation.questions[i - 1].text
                topic = next(w for w, f in QUESTIONS if f and turn.text in f)
                assert before in topic


def test_the_stock_script_has_twenty_turns_of_the_stock_intents() -> None:
    conversation = StockConversation("s-0")
    turns = play(conversation, lambda turn, asked: ([{"text": "Bye"}], asked))
    assert len(turns) == TURNS_PER_CONVERSATION
    assert {t.kind for t in turns} <= set(STOCK_WORDS)
    assert all(t.text in STOCK_WORDS[t.kind] for t in turns)
    assert [t.expect for t in turns if t.kind == "bot_challenge"] == ["i am a bot"] * sum(
        t.kind == "bot_challenge" for t in turns
    )


def test_the_stock_bot_hears_no_only_in_its_first_episode() -> None:
    scripts = [StockConversation(f"s-{i}").turns for i in range(40)]
    assert all("deny" not in [t.kind for t in turns[4:]] for turns in scripts)
    assert any("deny" in [t.kind for t in turns[:4]] for turns in scripts)
    assert any("affirm" in [t.kind for t in turns[4:]] for turns in scripts)


def test_script_messages_are_the_free_text_of_the_scripts() -> None:
    messages = script_messages("m", conversations=4)
    assert messages and not any(m.startswith("/") for m in messages)
    assert any(m in SYMPTOMS for m in messages)
    assert any(m in GOODBYES for m in messages)


# --- profile -----------------------------------------------------------------------------------

LOOP = "_run (asyncio/events.py:80)"
HANDLE = "handle_message (rasa/core/processor.py:150)"
RAW_PROFILE = "\n".join(
    [
        ";".join(
            [
                LOOP,
                HANDLE,
                "process (components/symptom_extractor.py:80)",
                "route (bot/routing.py:75)",
                "analyse (bot/nlp.py:490) 30",
            ]
        ),
        ";".join([LOOP, HANDLE, "process (rasa/nlu/classifiers/diet_classifier.py:1017) 50"]),
        ";".join(
            [
                LOOP,
                HANDLE,
                "save (rasa/core/tracker_store.py:900)",
                "execute (sqlalchemy/engine/base.py:1) 15",
            ]
        ),
        ";".join([LOOP, "_read (sanic/http.py:10) 5"]),
        "",
        "not a stack line",
    ]
)


def test_collapsed_stacks_are_parsed_root_first() -> None:
    stacks = parse_collapsed(RAW_PROFILE)
    assert len(stacks) == 4
    frames, count = stacks[0]
    assert count == 30
    assert frames[0].startswith("_run") and frames[-1].startswith("analyse")


def test_category_shares_are_inclusive_percentages() -> None:
    shares = {
        row["category"]: row["share"]
        for row in category_shares(parse_collapsed(RAW_PROFILE), RASA_CATEGORIES)
    }
    assert shares["handling a message (all of it)"] == 95.0
    assert (
        shares["NLU: SymptomExtractor (bot.understanding: spaCy, ConText, red-flag rules)"] == 30.0
    )
    assert shares["NLU: DIET classifier (TensorFlow)"] == 50.0
    assert shares["tracker store (SQL)"] == 15.0
    assert shares["dialogue policies"] == 0.0


def test_top_project_functions_with_inclusive_and_self_share() -> None:
    top = top_functions(parse_collapsed(RAW_PROFILE))
    rows = {row["function"]: row for row in top}
    assert set(rows) == {
        "process (components/symptom_extractor.py)",
        "route (bot/routing.py)",
        "analyse (bot/nlp.py)",
    }
    assert rows["analyse (bot/nlp.py)"] == {
        "function": "analyse (bot/nlp.py)",
        "inclusive": 30.0,
        "self": 30.0,
    }
    assert rows["route (bot/routing.py)"]["self"] == 0.0


def test_a_recursive_function_counts_once_per_sample() -> None:
    stacks = parse_collapsed("f (bot/a.py:1);f (bot/a.py:2);f (bot/a.py:3) 10\ng (x.py:1) 10")
    assert top_functions(stacks)[0]["inclusive"] == 50.0


def test_an_empty_profile_has_no_shares() -> None:
    assert all(r["share"] == 0.0 for r in category_shares([], ACTION_CATEGORIES))


# --- goals and report --------------------------------------------------------------------------


def level(concurrency: int, p95: float, errors: int = 0, turns: int = 200) -> dict:
    return {
        "concurrency": concurrency,
        "conversations": max(concurrency, 10),
        "turns": turns,
        "errors": errors,
        "error_kinds": {"HTTP 503": errors} if errors else {},
        "unexpected": 0,
        "unexpected_kinds": {},
        "wall_s": 10.0,
        "throughput_tps": turns / 10,
        "latency_ms": {
            "p50": p95 / 2,
            "p95": p95,
            "p99": p95 * 1.2,
            "mean": p95 / 2,
            "min": 1.0,
            "max": p95 * 1.5,
        },
        "cpu": {
            "rasa": 95.0,
            "load generator": 3.0,
            "machine busy %": 60.0,
            "other processes %": 10.0,
        },
    }


def results(training: dict | None = None, single_errors_at_50: int = 0) -> dict:
    return {
        "command": "python -m scripts.bench",
        "started": "2025-01-01 10:00",
        "finished": "2025-01-01 10:20",
        "machine": {
            "host": "box",
            "cores": 2,
            "cpu": "Some CPU",
            "memory_gb": 8,
            "os": "Linux",
            "python": "3.10.13",
            "versions": {"rasa": "3.6.21"},
            "load_average_at_start": [0.1, 0.2, 0.3],
        },
        "settings": {"quick": False},
        "setups": {
            "stock": {
                "levels": [level(1, 100), level(10, 1000), level(50, 4000)],
                "memory": [{"process": "rasa", "pid": 1, "rss_mb": 500.0}],
            },
            "single": {
                "levels": [
                    level(1, 140),
                    level(10, 1600),
                    level(50, 5000, errors=single_errors_at_50),
                ],
                "memory": [
                    {"process": "rasa", "pid": 2, "rss_mb": 900.0},
                    {"process": "action server", "pid": 3, "rss_mb": 300.0},
                ],
            },
        },
        "training": training,
    }


def goals(data: dict) -> dict[tuple[str, str, int | None], dict]:
    return {(g["goal"][:10], g["setup"], g["concurrency"]): g for g in evaluate_goals(data)}


def test_p95_goal_is_one_conversation_at_a_time_up_to_1_3_times_the_stock_bot() -> None:
    rows = goals(results())  # 140 ms vs 100 ms
    assert rows[("p95 per-tu", "single", 1)]["met"] is False
    assert "1.40x" in rows[("p95 per-tu", "single", 1)]["measured"]
    data = results()
    data["setups"]["single"]["levels"][0] = level(1, 130)
    assert goals(data)[("p95 per-tu", "single", 1)]["met"] is True
    assert ("p95 per-tu", "single", 10) not in goals(data)


def test_throughput_goal_at_fifty_is_at_least_0_8_of_the_stock_bot() -> None:
    data = results()
    data["setups"]["single"]["levels"][2] = level(50, 5000, turns=160)  # 16 vs 20 turns/s
    assert goals(data)[("throughput", "single", 50)]["met"] is True
    data["setups"]["single"]["levels"][2] = level(50, 5000, turns=150)  # 15 vs 20 turns/s
    row = goals(data)[("throughput", "single", 50)]
    assert row["met"] is False
    assert "0.75x" in row["measured"]


def test_errors_at_fifty_concurrent_fail_that_goal() -> None:
    assert goals(results())[("50 concurr", "single", 50)]["met"] is True
    failed = goals(results(single_errors_at_50=3))[("50 concurr", "single", 50)]
    assert failed["met"] is False
    assert failed["measured"] == "3 errors in 200 turns"


@pytest.mark.parametrize(
    ("training", "met"),
    [
        ({"wall_s": 250.0, "cpu_s": 400.0, "returncode": 0, "command": "rasa train"}, True),
        ({"wall_s": 320.0, "cpu_s": 500.0, "returncode": 0, "command": "rasa train"}, False),
        ({"wall_s": 20.0, "cpu_s": 10.0, "returncode": 1, "command": "rasa train"}, False),
        (None, None),
    ],
)
def test_training_goal(training, met) -> None:
    row = goals(results(training))[("training u", "single", None)]
    assert row["met"] is met


def test_the_report_names_the_command_machine_goals_and_every_level() -> None:
    training = {"wall_s": 250.0, "cpu_s": 400.0, "returncode": 0, "command": "rasa train"}
    data = results({**training, "other_processes_pct": 35.0})
    data["goals"] = evaluate_goals(data)
    report = render_markdown(data)
    assert "| our bot | `rasa train` | 4 min 10 s | 6 min 40 s | 35% | ok |" in report
    assert "`python -m scripts.bench`" in report
    assert "2 cores, Some CPU" in report
    assert "one run on the machine named below" in report
    assert "**not met**" in report  # the 1.60x at 10 concurrent
    assert "4 min 10 s" in report
    table = [line for line in report.splitlines() if line.startswith("| our bot, one instance |")]
    assert any("| 50 | 50 | 200 | 0 | 0 | 2500 | 5000 | 6000 | 7500 | 20.0 |" in t for t in table)
    assert "| our bot, one instance | **total** | 1200 |" in report


def test_a_quick_report_says_so() -> None:
    data = results()
    data["settings"]["quick"] = True
    data["goals"] = evaluate_goals(data)
    assert "quick development run" in render_markdown(data)


def test_the_plot_is_written(tmp_path) -> None:
    path = tmp_path / "plot.png"
    plot(results(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_waiting_samples_are_not_busy_samples() -> None:
    stacks = parse_collapsed(
        "\n".join(
            [
                "main (rasa/__main__.py:1);serve (sanic/server/runners.py:10) 90",
                "main (rasa/__main__.py:1);serve (sanic/server/runners.py:10);"
                "handle_message (rasa/core/processor.py:1) 10",
            ]
        )
    )
    working = busy(stacks)
    assert sum(count for _, count in working) == 10
    assert category_shares(working, RASA_CATEGORIES)[0]["share"] == 100.0


def test_rasa_code_with_a_project_like_folder_name_is_not_project_code() -> None:
    stacks = parse_collapsed(
        "run (rasa/core/actions/action.py:1);route (bot/routing.py:2) 4\n"
        "run (rasa/core/actions/action.py:1) 6"
    )
    assert [r["function"] for r in top_functions(stacks)] == ["route (bot/routing.py)"]


def test_hottest_code_by_innermost_frame() -> None:
    stacks = parse_collapsed(RAW_PROFILE)
    hottest = top_functions(stacks, 2, keep=lambda frame: True, by_self=True)
    assert [r["function"] for r in hottest] == [
        "process (rasa/nlu/classifiers/diet_classifier.py)",
        "analyse (bot/nlp.py)",
    ]
    assert hottest[0]["self"] == 50.0


def test_every_process_of_the_cluster_state_is_measured() -> None:
    state = {
        "url": "http://127.0.0.1:8080",
        "rasa": [{"name": "rasa-0", "pid": 11}, {"name": "rasa-1", "pid": 12}],
        "actions": [{"name": "actions-0", "pid": 21}],
        "nginx": {"name": "nginx", "pid": 31, "port": 8080},
        "retention": {"pid": 41},
        "database": "postgresql://postgres@127.0.0.1:5432/x",
    }
    assert cluster_processes(state) == {
        "rasa-0": 11,
        "rasa-1": 12,
        "actions-0": 21,
        "nginx": 31,
        "retention": 41,
    }
    with pytest.raises(ValueError):
        cluster_processes({"url": "http://127.0.0.1:8080"})


def test_the_servers_under_test_get_a_fixed_hash_seed_unless_one_is_set(monkeypatch) -> None:
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    env = server_env({"RASA_CACHE_DIRECTORY": "/tmp/cache"})
    assert env["PYTHONHASHSEED"] == "0"
    assert env["RASA_CACHE_DIRECTORY"] == "/tmp/cache"
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    monkeypatch.setenv("PYTHONHASHSEED", "7")
    assert server_env()["PYTHONHASHSEED"] == "7"


def test_the_command_line_is_the_one_make_bench_runs(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    usage = capsys.readouterr().out
    assert usage.startswith("usage: python -m scripts.bench")
    assert "--quick" in usage and "--from-json" in usage


def test_the_report_can_be_written_again_from_the_raw_numbers(tmp_path) -> None:
    raw = tmp_path / "benchmarks.json"
    raw.write_text(json.dumps(results()))
    out = tmp_path / "docs"
    assert main(["--from-json", str(raw), "--out", str(out)]) == 0
    report = (out / "benchmarks.md").read_text()
    assert "`python -m scripts.bench`" in report and "1.40x" in report
    assert (out / "benchmarks.png").exists()
    assert json.loads((out / "benchmarks.json").read_text())["goals"]


def test_the_busiest_level_is_explained_by_throughput_from_the_run() -> None:
    data = results()
    data["setups"]["single"]["levels"][2]["throughput_tps"] = 10.0  # stock: 20 turns/s
    data["setups"]["scaled"] = {"levels": [level(1, 180)], "memory": []}
    found = "\n".join(_load_findings(data))
    assert "stock bot completed 20 turns/s, one instance of this bot 10 turns/s" in found
    assert "about 2.00x the stock bot's processing time, and its p95 is 1.25x" in found
    assert "scaled setup's median turn is +20 ms" in found


def test_without_a_stock_run_there_is_nothing_to_explain() -> None:
    data = results()
    del data["setups"]["stock"]
    assert _load_findings(data) == []
