"""`think batch --parallel` on the local llama.cpp engine: the questions in flight share one
context and one decode loop (shared_loop). Real model; asserts machinery, not wisdom.

CPU kernels round a row of a many-row batch a little differently from a lone row, so a
batched question's text may part from its solo run's at a near-tie: what must hold is the
plan, the number of samples, the caps, and the loop's bookkeeping.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import replace
from pathlib import Path

import llama_cpp
import pytest

from think import api
from think.config import load_profile
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine, shared_loop
from think.models import resolve
from think.tasks.prompts import Prompts

pytestmark = pytest.mark.real

QUESTIONS = [f"What is {a} + {b}?" for a, b in ((2, 3), (4, 4), (6, 1), (9, 5), (3, 8),
                                                  (7, 7), (5, 2), (8, 6))]


@pytest.fixture
def engine(think_home: Path) -> LlamaEngine:
    # The process's engine, the one `think batch` in this process loads (after think_home,
    # which says where the model is).
    loaded = api.load_engine(resolve("gemma3-270m"), load_profile())
    assert isinstance(loaded, LlamaEngine)
    return loaded


def questions_file(tmp_path: Path) -> Path:
    source = tmp_path / "q.jsonl"
    source.write_text("".join(json.dumps({"id": f"q{n}", "question": q}) + "\n"
                              for n, q in enumerate(QUESTIONS)))
    return source


def batch_records(run_cli, source: Path, out: Path, *options: str) -> list[dict]:
    run = run_cli("batch", str(source), "--seed", "3", "--out", str(out), *options)
    assert run.code == 0, run.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.parametrize("budget", ["1", "2"])
def test_parallel_batch_answers_in_input_order_as_solo_runs_do(
        run_cli, tmp_path: Path, engine: LlamaEngine, budget: str) -> None:
    source = questions_file(tmp_path)
    solo = batch_records(run_cli, source, tmp_path / "solo.jsonl", "-b", budget)
    steps, engine.loop.most_lanes = engine.loop.steps, 0
    batched = batch_records(run_cli, source, tmp_path / "batched.jsonl", "-b", budget,
                            "--parallel", "4")
    assert engine.loop.steps > steps and engine.loop.most_lanes > 1  # it did batch
    assert [row["id"] for row in batched] == [f"q{n}" for n in range(len(QUESTIONS))]
    same = 0
    for alone, together in zip(solo, batched, strict=True):
        assert "error" not in together and "answer" in together
        assert together["question"] == alone["question"]
        assert together["plan"] == alone["plan"]
        assert len(together["samples"]) == len(alone["samples"])
        plan = together["plan"]
        for sample in together["samples"]:
            assert 0 < sample["tokens"] <= plan["cot_tokens"] + plan["answer_tokens"]
            assert sample["seed"] in {s["seed"] for s in alone["samples"]}
        same += together["answer"] == alone["answer"]
    print(f"budget {budget}: {same}/{len(QUESTIONS)} answers as solo runs give")
    assert not engine.loop.lanes and not engine.loop.waiting


def sum_request(engine: LlamaEngine, question: str, n: int, seed: int) -> SampleRequest:
    prompts = Prompts(engine, question, "math")
    prompt = prompts.cot()
    return SampleRequest(prompt=prompt, shared_prefix=prompts.shared_prefix(prompt), n=n,
                         max_tokens=40, stop=prompts.stops(), answer_cue="Final answer:",
                         answer_tokens=8, temperature=0.8, seed=seed)


def test_threads_never_decode_at_once_and_a_stopped_lane_lets_the_next_in(
        engine: LlamaEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # One lane at a time: a question waiting behind an early-stopped one is admitted only
    # when that one has given its sequences back.
    monkeypatch.setattr(shared_loop, "MOST_LANES", 1)
    context = engine.llama_context
    decoding, overlaps, real_decode = [0], [0], context.decode
    guard = threading.Lock()

    def watched_decode(batch, entries) -> None:
        with guard:
            decoding[0] += 1
            overlaps[0] += decoding[0] > 1
        try:
            real_decode(batch, entries)
        finally:
            with guard:
                decoding[0] -= 1

    monkeypatch.setattr(context, "decode", watched_decode)
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def ask(index: int) -> None:
        stop_after_one = index == 0  # on_done False: the vote is in, cancel the rest
        try:
            results[index] = engine.sample(
                sum_request(engine, QUESTIONS[index], 4, 11 + index),
                on_done=(lambda done: False) if stop_after_one else None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors and sorted(results) == [0, 1, 2, 3]
    assert overlaps[0] == 0
    stopped = results[0].completions  # type: ignore[attr-defined]
    assert len(stopped) == 4 and sum(c.finish == "cancelled" for c in stopped) >= 3
    for index in (1, 2, 3):
        assert len(results[index].completions) == 4  # type: ignore[attr-defined]
    loop = engine.loop
    assert not loop.lanes and not loop.waiting and not loop.running
    memory = llama_cpp.llama_get_memory(engine.ctx)
    held = [seq for seq in range(shared_loop.FIRST_LANE_SEQ, context.seqs)
            if llama_cpp.llama_memory_seq_pos_max(memory, seq) >= 0]
    assert held == []  # every lane gave its cells back


def test_one_caller_keeps_the_lone_path(engine: LlamaEngine) -> None:
    steps = engine.loop.steps
    result = engine.sample(sum_request(engine, QUESTIONS[0], 2, 5))
    assert engine.loop.steps == steps and len(result.completions) == 2


def test_max_seconds_binds_each_question_under_parallel(run_cli, tmp_path: Path,
                                                         engine: LlamaEngine) -> None:
    limit = 2.0
    rows = batch_records(run_cli, questions_file(tmp_path), tmp_path / "out.jsonl", "-b", "8",
                         "--parallel", "4", "--max-seconds", str(limit), "--task", "math")
    assert [row["id"] for row in rows] == [f"q{n}" for n in range(len(QUESTIONS))]
    cut = 0
    for row in rows:
        # Every question, the last ones too (they waited for a thread), gets its samples:
        # its limit counts from its own start, not the batch's.
        assert "error" not in row and row["samples"], row
        # Out of time, live samples read the answer cue and answer in a few tokens.
        assert row["compute"]["seconds"] < limit + 15, row["compute"]
        cut += len(row["samples"]) < row["plan"]["samples"] or any(
            sample["finish"] == "budget-forced" for sample in row["samples"])
    assert cut  # the limit did stop samples (budget 8 takes far longer than 2 s here)


def batched_texts(engine: LlamaEngine, seed: int) -> list[str]:
    """Two greedy requests sampled at once (so they share the loop), their texts."""
    texts: dict[int, str] = {}

    def ask(index: int) -> None:
        request = sum_request(engine, QUESTIONS[index], 1, seed)
        request = replace(request, temperature=0.0)
        texts[index] = engine.sample(request).completions[0].text

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return [texts[0], texts[1]]


def test_every_batch_reads_the_few_shot_prefix_whatever_ran_between(
        engine: LlamaEngine) -> None:
    # The loop keeps the shared prefix on PREFIX_SEQ between batches. A lone call's samples
    # take the sequences after its holder, PREFIX_SEQ among them, and a benchmark's cold
    # start empties the memory: neither may leave the loop believing the prefix is still
    # there, or its next lanes copy empty cells and answer without the few-shot examples
    # (greedy, that is "Reasoning:" over and over and no number).
    rounds = [batched_texts(engine, 7)]
    rounds.append(batched_texts(engine, 7))  # its first caller went alone: a lone call
    engine.sample(sum_request(engine, QUESTIONS[3], 1, 1))
    engine.forget_prompt()
    rounds.append(batched_texts(engine, 7))
    for texts in rounds:
        assert all(re.search(r"Final answer: \d", text) for text in texts), texts
        assert texts == rounds[0]
    memory = llama_cpp.llama_get_memory(engine.ctx)
    prefix = engine.loop.prefix.tokens
    assert prefix and llama_cpp.llama_memory_seq_pos_max(memory, shared_loop.PREFIX_SEQ) \
        == len(prefix) - 1
