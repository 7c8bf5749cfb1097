"""Benchmarks on the real model, at toy sizes: they run, print their table and write JSON."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import think
from think import api
from think.config import LoadSettings, load_profile
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.engine.llama.system import matmul_features, system_info
from think.errors import ThinkError
from think.models import resolve

pytestmark = pytest.mark.real


def test_bench_speed_prints_ratios_and_writes_json(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    run = run_cli("bench", "speed", "--widths", "1,2", "--tokens", "8", "--repeats", "1",
                  "--lookup-tokens", "24", "--batch-questions", "4", "--batch-budgets", "1,2",
                  "--batch-parallel", "2", "--out", str(out))
    assert run.code == 0, run.stderr
    assert "batched/seq" in run.stdout and "decode only/seq" in run.stdout
    assert "prompt cache" in run.stdout
    data = json.loads(out.read_text())
    # The header names the kernels the ratios come from, as this llama.cpp build reports them.
    assert data["cpu_features"] == matmul_features(system_info())
    assert all(feature in run.stdout.splitlines()[0] for feature in data["cpu_features"])
    # ... and the buffer types the engine and the Llama baseline both loaded with.
    assert run.stdout.splitlines()[1] == f"llama.cpp {data['buffers']}"
    assert data["buffers"].startswith("extra buffers ")
    assert [row["n"] for row in data["rows"]] == [1, 2]
    for row in data["rows"]:
        assert row["batched_tokens"] == row["sequential_tokens"] == 8 * row["n"]
        assert row["ratio"] > 0 and row["decode_only_ratio"] > 0
    assert data["prompt_cache_speedup"] > 1
    # Lookup decoding, off against on: both stages, greedy and sampled, drafts counted.
    assert "lookup decoding" in run.stdout
    assert [(row["stage"], row["temperature"]) for row in data["lookup"]] == [
        ("refine", 0.0), ("refine", 0.7), ("cot", 0.0), ("cot", 0.7)]
    assert all(row["on_tps"] > 0 and row["off_tps"] > 0 for row in data["lookup"])
    assert sum(row["drafted"] for row in data["lookup"]) > 0
    # The greedy refine round copies its solution: the same tokens either way.
    assert data["lookup"][0]["same_tokens"] is True
    # The batch row: the file one at a time and batched, per budget, with no server column.
    assert "batch of 4 small-sum questions" in run.stdout
    assert [(row["budget"], row["errors"]) for row in data["batch"]] == [(1, 0), (2, 0)]
    for row in data["batch"]:
        assert row["alone_qps"] > 0 and row["batched_qps"] > 0 and "server_qps" not in row
        table = run.stdout.split("batch of 4 small-sum questions")[1].splitlines()
        table_line = next(line for line in table if line.split()[:1] == [str(row["budget"])])
        assert f"{row['speedup']:.2f}x" in table_line


def test_record_then_replay(run_cli, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"question": "What is 2 + 3?", "answer": "2 + 3 = 5\n#### 5"}) + "\n" +
        json.dumps({"question": "What is 10 - 4?", "answer": "#### 6"}) + "\n")
    recording = tmp_path / "rec.jsonl"
    run = run_cli("bench", "record", str(questions), "--out", str(recording), "--samples", "3",
                  "--cot-tokens", "24")
    assert run.code == 0, run.stderr
    rows = [json.loads(line) for line in recording.read_text().splitlines()]
    assert sorted(row["gold"] for row in rows) == ["5", "6"]
    assert all(len(row["answers"]) == 3 for row in rows)
    replayed = run_cli("bench", "replay", str(recording), "--json")
    scores = json.loads(replayed.stdout)["rules"]
    assert scores[0]["rule"] == "full" and scores[0]["mean_samples"] == 3


def test_a_small_kv_budget_narrows_the_batch_instead_of_crashing() -> None:
    spec = resolve()
    engine = LlamaEngine(spec.path, spec.name, spec.format, LoadSettings(n_ctx=700, batch_width=8))
    try:
        prompt = "Question: What is 2 + 3?\nReasoning:"
        result = engine.sample(SampleRequest(prompt=prompt, n=8, max_tokens=96,
                                             answer_cue="Final answer:", answer_tokens=8))
        assert len(result.completions) == 8 and engine.ctx_cells <= 700
        with pytest.raises(ThinkError, match="context"):
            engine.sample(SampleRequest(prompt=prompt, n=1, max_tokens=2000))
    finally:
        engine.close()


WIDE_STEPS = """
from think.config import LoadSettings
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.models import resolve
spec = resolve()
engine = LlamaEngine(spec.path, spec.name, spec.format, LoadSettings(n_batch=32, batch_width=40))
result = engine.sample(SampleRequest(prompt="Question: What is 2 + 3?\\nReasoning:", n=40,
                                     max_tokens=3, temperature=1.0, ignore_eos=True,
                                     answer_cue="Final answer:", answer_tokens=2))
print(len(result.completions), sum("Final answer:" in c.text for c in result.completions))
"""


def test_steps_wider_than_the_profiles_n_batch_do_not_abort() -> None:
    # 40 samples need more sequences than n_batch has output rows, and all 40 read the answer
    # cue in one step (40 x 5 rows): llama.cpp would abort the process (GGML_ASSERT), so the
    # run goes in a child process and a crash fails the test instead of killing pytest.
    run = subprocess.run([sys.executable, "-c", WIDE_STEPS], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["40", "40"]  # every sample finished, each with its cue


def test_repeated_runs_do_not_grow_memory() -> None:
    engine = api.load_engine(resolve(), load_profile())
    question = "Tom has 4 boxes of 6 pens. How many pens?"
    think.solve(question, budget=16, seed=1, early_stop=False)
    contexts = engine.contexts_created
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for seed in range(2, 6):
        think.solve(question, budget=16, seed=seed, early_stop=False)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert engine.contexts_created == contexts  # the KV cache sized for the plan is reused
    assert grown_mb < 20


def test_matmul_features_reads_the_cpu_section_of_any_build() -> None:
    cuda_arm = ("CUDA : ARCHS = 890 | USE_GRAPHS = 1 | CPU : NEON = 1 | ARM_FMA = 1 | "
                "DOTPROD = 1 | MATMUL_INT8 = 0 | SVE = 1 |")
    assert matmul_features(cuda_arm) == ["NEON", "DOTPROD", "SVE"]
    x86 = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | F16C = 1 | OPENMP = 1 |"
    assert matmul_features(x86) == ["AVX2"]
