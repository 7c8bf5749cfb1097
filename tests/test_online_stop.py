"""DeepConf online: a sample whose sliding-window confidence falls below the warm-up's
threshold stops, does not vote, and the vote says what that saved; replayed offline too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from think.bench.replay import format_scores, load_recordings, mean_tokens, replay
from think.engine.base import CONFIDENCE_WINDOW, Confidence, SampleRequest
from think.engine.scripted import ScriptedEngine
from think.engine.tracker import SampleTracker
from think.errors import UsageError
from think.strategies.confidence import online_threshold, percentile

SHIPPED = Path(__file__).parents[1] / "think" / "data" / "profiles" / "default.yaml"


def scored(values: list[float], stop_below: float | None = None) -> SampleTracker:
    tracker = SampleTracker(SampleRequest("p", max_tokens=1000, answer_cue="Final answer:",
                                          stop_below=stop_below))
    for value in values:
        tracker.score(-0.5, value)
        if tracker.finish is not None:
            break
        tracker.feed(" x")
    return tracker


def test_the_window_mean_is_watched_from_the_first_full_window() -> None:
    # A short dip inside the first window is not a window of its own yet.
    values = [0.1] * 10 + [3.0] * (CONFIDENCE_WINDOW - 10) + [3.0] * 20 + [0.5] * 40
    tracker = scored(values, stop_below=2.0)
    assert tracker.finish == "low-confidence"
    drawn = len(tracker.confidences)
    assert CONFIDENCE_WINDOW + 20 < drawn < len(values)  # as soon as the window fell under
    falls = Confidence.of(values, [-0.5] * len(values)).falls
    first = (0.1 * 10 + 3.0 * (CONFIDENCE_WINDOW - 10)) / CONFIDENCE_WINDOW
    assert falls[0] == (CONFIDENCE_WINDOW, round(first, 4))
    assert [m for _, m in falls] == sorted((m for _, m in falls), reverse=True)
    assert Confidence.of(values, [], CONFIDENCE_WINDOW).stops_at(2.0) == drawn


def test_a_shorter_window_watches_short_samples() -> None:
    values = [3.0] * 10 + [0.5] * 10
    assert scored(values, stop_below=2.0).finish is None  # shorter than one 64-token window
    tracker = SampleTracker(SampleRequest("p", max_tokens=100, answer_cue="Final answer:",
                                          stop_below=2.0, window=8))
    for value in values:
        tracker.score(-0.5, value)
        if tracker.finish is not None:
            break
    # At 14 tokens the last 8 hold four 3.0s and four 0.5s: a mean of 1.75.
    assert tracker.finish == "low-confidence" and len(tracker.confidences) == 14


def test_without_a_threshold_nothing_stops_and_the_falls_are_kept() -> None:
    tracker = scored([3.0] * 80 + [0.5] * 80)
    assert tracker.finish is None and len(tracker.confidences) == 160
    confidence = tracker.completion(0, 0).confidence
    assert confidence is not None and confidence.falls[-1][1] == pytest.approx(0.5)
    assert confidence.lowest_window == pytest.approx(0.5)
    # Replaying the stop at a threshold finds where the live stop would have been.
    assert confidence.stops_at(0.4) is None
    live = scored([3.0] * 80 + [0.5] * 80, stop_below=2.0)
    assert confidence.stops_at(2.0) == len(live.confidences)


def test_the_threshold_is_the_warm_ups_lower_percentile() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.0) == 1.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 1.0) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.1) == pytest.approx(1.4)
    lows = [Confidence(mean=2, lowest_window=v, tail=2, logprob=-1, tokens=100)
            for v in (1.0, 2.0, 3.0, 4.0, 5.0)]
    assert online_threshold(lows, keep=0.9) == pytest.approx(1.4)
    assert online_threshold(lows, keep=1.0) == 1.0  # keep everything: the lowest
    assert online_threshold([], keep=0.9) is None


# After the warm-up, samples with an even seed lose confidence and would answer wrongly.
def reply(request: SampleRequest, index: int) -> str:
    wrong = index % 2 == 0 and request.stop_below is not None
    return " step" * 90 + (" Final answer: 5" if wrong else " Final answer: 4")


def token_confidence(seed: int, number: int) -> float:
    if seed < 104:  # the warm-up (seeds 100..103): lowest windows 2.1, 2.2, 2.0, 2.1
        return 2.0 + (seed % 3) * 0.1
    return 0.3 if seed % 2 == 0 and number >= 20 else 3.0


def online_profile(tmp_path: Path, warmup: int = 4) -> Path:
    profile = tmp_path / "online.yaml"
    profile.write_text(SHIPPED.read_text() + f"vote_rule: deepconf\ndeepconf_warmup: {warmup}\n"
                       "early_stop:\n  enabled: false\n")
    return profile


def test_a_solve_stops_low_confidence_samples_and_says_so(run_cli, use_engine,
                                                          tmp_path: Path) -> None:
    engine = ScriptedEngine(respond=reply, token_confidence=token_confidence)
    use_engine(engine)
    run = run_cli("solve", "What is 2+2?", "-b", "20", "-p", str(online_profile(tmp_path)),
                  "--json", "--seed", "100")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    stopped = [s for s in data["samples"] if s["finish"] == "low-confidence"]
    assert stopped and all(s["answer"] is None for s in stopped)
    assert all(s["tokens"] < 90 for s in stopped)  # cut short, not run to the end
    online = data["vote"]["online"]
    assert online["stopped"] == len(stopped) and online["tokens_saved"] > 0
    assert online["threshold"] == pytest.approx(2.03)  # 0.1 of the way from 2.0 to 2.1
    # The wrong answers were all on stopped samples: they never voted.
    assert data["answer"] == "4" and "5" not in data["vote"]["counts"]
    # The warm-up ran whole, then the rest of the request went out with the threshold.
    asks = [r for r in engine.history if r.n > 1 or r.stop_below is not None]
    assert asks[0].stop_below is None and asks[0].n == 4 and asks[0].confidence
    assert all(r.stop_below == pytest.approx(2.03) for r in asks[1:])
    assert "stopped at low confidence" in run.stderr


def test_the_live_view_says_how_many_were_stopped(use_engine, tmp_path: Path) -> None:
    import think
    from think.events import VoteUpdated

    use_engine(ScriptedEngine(respond=reply, token_confidence=token_confidence))
    events = []
    think.solve("What is 2+2?", budget=20, profile=str(online_profile(tmp_path)), seed=100,
                on_event=events.append)
    last = [e for e in events if isinstance(e, VoteUpdated)][-1]
    assert last.online is not None and last.online.stopped >= 1

    from think.ui.render import vote
    from think.ui.state import ViewState

    state = ViewState()
    for event in events:
        state.apply(event)
    text = _render(vote(state, 100))
    assert f"{last.online.stopped} stopped at low confidence" in text
    assert "tokens saved" in text


def _render(renderable) -> str:
    from rich.console import Console

    console = Console(width=100, record=True, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()


def test_a_warm_up_as_large_as_the_vote_stops_nothing(run_cli, use_engine,
                                                      tmp_path: Path) -> None:
    use_engine(ScriptedEngine(respond=reply, token_confidence=token_confidence))
    run = run_cli("solve", "What is 2+2?", "-b", "16", "-p",
                  str(online_profile(tmp_path, warmup=64)), "--json", "--seed", "100")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["vote"]["online"] is None
    assert not any(s["finish"] == "low-confidence" for s in data["samples"])


def falls_of(values: list[float]) -> list[list[float]]:
    confidence = scored(values).completion(0, 0).confidence
    assert confidence is not None
    return [list(fall) for fall in confidence.falls]


def write_online_recording(path: Path) -> Path:
    """Two questions of 12 samples: a sure warm-up of 6, then every other sample unsure (its
    window confidence falls from 2.0 to 0.4) and wrong; the second question's gold is the
    unsure answer."""
    rows = []
    for number in range(2):
        answers, confidences, tokens, traces = [], [], [], []
        for index in range(12):
            sure = index < 6 or index % 2
            values = [2.0 + 0.01 * index] * 120 if sure else [2.0] * 40 + [0.4] * 80
            falls = falls_of(values)
            answers.append("7" if sure else "9")
            tokens.append(120)
            traces.append(values)
            confidences.append({"mean": 1.5, "lowest_window": falls[-1][1], "tail": 1.0,
                                "logprob": -0.5, "tokens": 120, "falls": falls})
        rows.append({"id": f"q{number}", "gold": "7" if number == 0 else "9",
                     "answers": answers, "confidences": confidences, "tokens": tokens,
                     "traces": traces})
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_replay_measures_the_online_stop(tmp_path: Path) -> None:
    recordings = load_recordings(write_online_recording(tmp_path / "rec.jsonl"))
    full = replay(recordings, "full", 3)
    online = replay(recordings, "online:0.9:6", 3)
    assert full.mean_tokens == 12 * 120
    # Of the six after the warm-up, three are unsure: each stops at its first full window,
    # whose mean is already under the threshold (2.005, between the warm-up's lowest two).
    assert online.mean_tokens == 9 * 120 + 3 * CONFIDENCE_WINDOW
    assert online.accuracy == 0.5 and online.agreement == 1.0
    table = format_scores([full, online], 2, 12, mean_tokens(recordings))
    assert "online:0.9:6" in table and "samples for majority@12" in table


def test_replay_finds_how_many_samples_a_rule_needs(tmp_path: Path) -> None:
    recordings = load_recordings(write_online_recording(tmp_path / "rec.jsonl"))
    majority = replay(recordings, "majority", 3)
    # Every question's first sample says 7, as the 12-sample majority does: one is enough.
    assert majority.accuracy == 0.5 and majority.samples_to_match == 1
    # Weighing by lowest window, the unsure 9s count for little, so it matches from the first
    # sample too; keeping only the most confident half of one sample keeps that sample.
    assert replay(recordings, "deepconf:0.5", 3).samples_to_match == 1


def test_bad_online_rules_are_refused(tmp_path: Path) -> None:
    recordings = load_recordings(write_online_recording(tmp_path / "rec.jsonl"))
    for spec in ("online:2", "online:0.9:0", "online:x", "online:0.9:8:1"):
        with pytest.raises(UsageError, match="unknown online rule"):
            replay(recordings, spec, 3)


def test_replay_compares_rules_at_equal_samples(run_cli, tmp_path: Path) -> None:
    path = write_online_recording(tmp_path / "rec.jsonl")
    run = run_cli("bench", "replay", str(path), "--samples", "6", "--rules", "full,majority")
    assert run.code == 0, run.stderr
    assert "2 questions, 6 recorded samples each" in run.stdout
    run = run_cli("bench", "replay", str(path), "--window", "16", "--rules", "full,online:0.9:4",
                  "--json")
    assert run.code == 0, run.stderr
    full, online = json.loads(run.stdout)["rules"]
    # The sure warm-up's lowest windows are 2.00 to 2.03, so the threshold is 2.003, and the
    # three unsure samples (2.0 from the start) stop at their first 16-token window.
    assert online["mean_tokens"] == 9 * 120 + 3 * 16 and full["mean_tokens"] == 12 * 120
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row in rows:
        del row["traces"]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    run = run_cli("bench", "replay", str(path), "--window", "16")
    assert run.code == 2 and "needs each token's confidence" in run.stderr
