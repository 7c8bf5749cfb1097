"""The real thing: llama.cpp on the embedded Gemma 3 270M. Asserts machinery, not wisdom."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import llama_cpp
import pytest

import think
from think import api
from think.config import LoadSettings, load_profile
from think.engine.base import SampleRequest
from think.engine.llama import LlamaEngine
from think.models import resolve
from think.result import Result
from think.tasks.prompts import Prompts

pytestmark = pytest.mark.real

Q = "Sara has 5 cookies and eats 2. How many cookies are left?"
CUE = "Final answer:"


@pytest.fixture(scope="module")
def engine() -> LlamaEngine:
    spec = resolve()
    return api.load_engine(spec, load_profile())


def cot_request(engine: LlamaEngine, **overrides) -> SampleRequest:
    prompts = Prompts(engine, Q, "math")
    fields = dict(prompt=prompts.cot(), n=4, max_tokens=64, stop=prompts.stops(),
                  answer_cue=CUE, answer_tokens=16, temperature=0.8, seed=11)
    return SampleRequest(**{**fields, **overrides})


def test_budget_1_is_a_direct_answer_with_no_chain_of_thought() -> None:
    result = think.solve(Q, budget=1, seed=3)
    assert result.plan.strategy == "direct" and result.plan.cot_tokens == 0
    assert len(result.samples) == 1
    sample = result.samples[0]
    assert "\n" not in sample.text.strip() and CUE not in sample.text
    assert result.compute.used <= 1.25


def test_budget_2_thinks_within_256_tokens() -> None:
    result = think.solve(Q, budget=2, seed=3)
    plan = result.plan
    assert plan.strategy == "cot" and plan.cot_tokens <= 256
    for sample in result.samples:
        assert sample.tokens <= plan.cot_tokens + plan.answer_tokens
        if sample.finish == "budget-forced":
            assert f"\n{CUE}" in sample.text


def test_samples_forced_at_the_cap_carry_the_answer_cue(engine: LlamaEngine) -> None:
    result = engine.sample(cot_request(engine, max_tokens=6))
    assert len(result.completions) == 4
    for completion in result.completions:
        assert completion.finish == "budget-forced"
        assert f"\n{CUE}" in completion.text
        assert completion.tokens <= 6 + 16


def test_budget_20_draws_ten_samples_then_more_with_unspent_budget() -> None:
    result = think.solve(Q, budget=20, seed=5, early_stop=False)
    drawn = result.vote.drawn
    assert result.plan.samples == 10 and len(result.samples) == drawn
    # This model's samples end far below their thinking cap and its answers scatter, so the
    # budget they leave buys more samples, up to the vote stage's cap.
    assert result.vote.topped_up > 0 and drawn == 10 + result.vote.topped_up
    assert drawn <= result.plan.top_up_to
    abstained = sum(1 for s in result.samples if s.answer is None)
    assert sum(result.vote.counts.values()) + abstained == drawn
    assert len({s.seed for s in result.samples}) == drawn
    assert len({s.text for s in result.samples}) > 1, "distinct seeds must give distinct samples"
    assert result.compute.used <= 1.25 * 20


def test_same_seed_same_samples(engine: LlamaEngine) -> None:
    first = engine.sample(cot_request(engine))
    second = engine.sample(cot_request(engine))
    assert [c.text for c in first.completions] == [c.text for c in second.completions]


def test_drawing_from_the_leading_logits_picks_what_the_whole_row_would(
        engine: LlamaEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    from think.engine.llama import sampling

    request = cot_request(engine, n=6, max_tokens=48)
    shortcut = engine.sample(request)
    monkeypatch.setattr(sampling, "CANDIDATE_MARGINS", ())  # no shortcut: whole rows
    whole_rows = engine.sample(request)
    assert [c.text for c in shortcut.completions] == [c.text for c in whole_rows.completions]


def test_more_samples_than_the_batch_width_all_complete() -> None:
    spec = resolve()
    narrow = LlamaEngine(spec.path, spec.name, spec.format, LoadSettings(batch_width=3))
    try:
        result = narrow.sample(cot_request(narrow, n=7, max_tokens=24))
        assert [c.index for c in result.completions] == list(range(7))
        assert all(c.finish in ("stop", "budget-forced") for c in result.completions)
        # Finished samples and the padding rows of odd-sized steps leave no KV cells behind.
        memory = llama_cpp.llama_get_memory(narrow.ctx)
        assert all(llama_cpp.llama_memory_seq_pos_max(memory, seq) == -1 for seq in range(1, 5))
    finally:
        narrow.close()


def test_samples_that_agree_share_their_batch_rows(engine: LlamaEngine) -> None:
    # top_k=1 makes every sample pick the same tokens: one row a step serves all four.
    agreeing = engine.sample(cot_request(engine, answer_cue=None, top_k=1, max_tokens=12))
    texts = {c.text for c in agreeing.completions}
    assert len(texts) == 1
    longest = max(c.tokens for c in agreeing.completions)
    assert agreeing.decoded_rows == longest
    # Samples that part ways get rows of their own from the step they differ.
    apart = engine.sample(cot_request(engine, answer_cue=None, temperature=1.5, max_tokens=12))
    assert len({c.text for c in apart.completions}) > 1
    assert apart.decoded_rows is not None and apart.decoded_rows > longest


def test_a_settled_vote_stops_the_live_sequences(engine: LlamaEngine) -> None:
    finished = []

    def on_done(completion) -> bool:
        finished.append(completion)
        return False  # settled at the first finished sample

    result = engine.sample(cot_request(engine, n=6, max_tokens=200), on_done=on_done)
    assert len(finished) == 1
    cancelled = [c for c in result.completions if c.finish == "cancelled"]
    assert len(cancelled) == 5
    assert result.generated_tokens < 6 * 200


def test_a_request_past_its_deadline_gets_one_sample_that_answers_at_once(
        engine: LlamaEngine) -> None:
    late = time.monotonic() - 1  # e.g. a revision that starts after --max-seconds ran out
    result = engine.sample(cot_request(engine, n=4, max_tokens=200, deadline=late))
    (only,) = result.completions
    assert only.text.startswith(f"\n{CUE}") and only.finish == "budget-forced"
    assert only.tokens <= 16  # the answer tokens, no thinking


def test_prompt_prefix_is_reused_between_calls(engine: LlamaEngine) -> None:
    prompt = Prompts(engine, Q + " Count carefully.", "math").cot()
    request = cot_request(engine, prompt=prompt, n=1, max_tokens=8)
    first = engine.sample(request)
    again = engine.sample(request)
    cue = len(engine.tokenize(f"\n{CUE}", special=False))
    # The second call evaluates only the prompt's last token (plus the cue if it was forced).
    assert again.prompt_tokens <= 1 + cue < first.prompt_tokens


def think_bin() -> str:
    return shutil.which("think", path=os.path.dirname(sys.executable)) or "think"


@pytest.mark.parametrize("n_ctx, budget", [(256, 1), (600, 6), (600, 12), (600, 20)])
def test_a_profile_n_ctx_caps_every_plan_and_the_plan_runs(n_ctx: int, budget: int) -> None:
    # The plan fills what n_ctx leaves for one sequence (a direct answer, a capped chain with
    # its forced cue, refinement prompts); the engine must run that plan, not refuse it.
    profile = load_profile().model_copy(
        update={"load": LoadSettings(n_ctx=n_ctx, batch_width=4, prompt_cache_mb=0),
                "top_up": False})
    result = think.solve(Q, budget=budget, profile=profile, seed=3, early_stop=False)
    assert result.answer is not None
    assert result.plan.samples == len(result.samples)
    engine = api.load_engine(resolve(), profile)
    assert isinstance(engine, LlamaEngine) and engine.ctx_cells <= n_ctx


def test_cli_json_reports_units_within_the_budget(tmp_path) -> None:
    run = subprocess.run([think_bin(), "solve", Q, "--budget", "4", "--json", "--seed", "2"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["budget"] == 4 and data["compute"]["used"] <= 1.25 * 4
    assert data["model"] == "gemma3-270m" and data["samples"]


def test_a_pipe_works_end_to_end() -> None:
    run = subprocess.run(f"echo '{Q}' | {think_bin()} solve - --json --budget 2",
                         shell=True, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["question"] == Q and data["answer"] is not None
    assert "think: answer" in run.stderr  # progress went to stderr, not stdout


def test_threads_calling_solve_at_once_each_get_their_own_answer() -> None:
    # A web app on the Python API: calls from several threads share one loaded model, and
    # two decodes on its context at once aborted the process. (Texts are not compared with
    # runs one at a time: which prompt prefix a call finds in the KV cache depends on the
    # order, and a prefix evaluated in other chunks rounds differently.)
    import threading

    questions = [f"What is {n} + {n}?" for n in range(1, 5)]
    results: dict[str, Result] = {}
    threads = [threading.Thread(target=lambda q=question: results.update(
        {q: think.solve(q, budget=3, seed=5)})) for question in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sorted(results) == sorted(questions)
    for question, result in results.items():
        assert result.question == question and result.samples
        assert all(sample.tokens > 0 for sample in result.samples)
        assert 0 < result.compute.used <= 1.25 * 3


def test_parallel_first_runs_share_one_assembled_model(tmp_path) -> None:
    # `xargs -P 3 think solve` on a fresh install: every run must answer, not just the one
    # that happened to assemble the packaged model first.
    env = {**os.environ, "THINK_MODELS_DIR": str(tmp_path / "models")}
    runs = [subprocess.Popen([think_bin(), "solve", Q, "--budget", "1", "--quiet"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)]
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0 and out.strip(), err
    files = sorted(path.name for path in (tmp_path / "models").iterdir())
    assert [name for name in files if name.endswith(".gguf")] == [resolve().path.name]
    assert not [name for name in files if name.endswith(".partial")]


@pytest.mark.parametrize("stop, status, said", [(signal.SIGINT, 130, "Interrupted."),
                                                (signal.SIGTERM, 143, "Terminated.")])
def test_ctrl_c_or_sigterm_prints_the_best_answer_so_far(stop: int, status: int,
                                                          said: str) -> None:
    # As a terminal's foreground job: a suite started in the background (`pytest &` in a
    # script) has SIGINT ignored, and a child would inherit that and never see Ctrl-C.
    process = subprocess.Popen([think_bin(), "solve", Q, "-b", "100", "--no-early-stop",
                                "--seed", "1"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # wait until the vote has an answer
        seen.append(line)
        if line.startswith("think: vote: ") and "no answers" not in line:
            break
    process.send_signal(stop)
    out, err = process.communicate(timeout=120)
    assert process.returncode == status, "".join(seen) + err
    assert "Traceback" not in err and said in err
    answers = [part.rsplit(" x", 1)[0] for part in seen[-1][len("think: vote: "):].split(", ")]
    assert out.strip() in answers  # the leader of the samples finished so far


GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'assistant' %}"
    "{% set role = 'model' %}{% else %}{% set role = 'user' %}{% endif %}"
    "<start_of_turn>{{ role }}\n{{ m['content'] }}<end_of_turn>\n{% endfor %}"
    "<start_of_turn>model\n")


def test_chat_models_are_prompted_through_their_template(think_home) -> None:
    spec = resolve()
    config = think_home / "config"
    config.mkdir(parents=True)
    template = GEMMA_TEMPLATE.replace("\n", "\\n")
    (config / "models.yaml").write_text(
        f"models:\n  gemma-chat:\n    path: {spec.path}\n    format: chat\n"
        f"    context: 4096\n    chat_template: \"{template}\"\n")
    result = think.solve(Q, budget=2, model="gemma-chat", seed=1)
    assert result.model == "gemma-chat" and result.samples
    engine = api.load_engine(resolve("gemma-chat"), load_profile())
    chat = Prompts(engine, Q, "math").cot()
    assert not isinstance(chat, str) and chat.messages[-1].content == Q
    prompt = engine.render(chat)  # the engine renders the messages under the template
    assert prompt.startswith("<bos><start_of_turn>user")
    assert prompt.rstrip().endswith("<start_of_turn>model")
    tokens = engine.tokenize(prompt)
    assert tokens.count(tokens[0]) == 1  # one BOS, not two


@pytest.mark.parametrize("max_tokens", [2, 64])
def test_a_draw_is_charged_no_more_than_the_engine_costs_it(engine: LlamaEngine,
                                                            max_tokens: int) -> None:
    # The solver tops a vote up only with what the engine says a draw can cost; the charge
    # (prompt, the last prompt token and cue each sample reads, its tokens) stays within it.
    engine.forget_prompt()
    request = cot_request(engine, n=3, max_tokens=max_tokens, ignore_eos=True)
    result = engine.sample(request)
    charged = result.prompt_tokens + result.generated_tokens
    cue = len(engine.tokenize(f"\n{CUE}", special=False))
    assert charged <= engine.draw_cost(request)
    if all(c.finish == "budget-forced" for c in result.completions):
        # Forced at the cap, only the answers' unused room is left of the bound.
        assert engine.draw_cost(request) - charged <= request.n * (request.answer_tokens + 1)
    assert engine.draw_cost(request) == engine.count_tokens(request.prompt) + 3 * (
        max_tokens + cue + request.answer_tokens + 1)
