"""--budget auto: escalation on the scripted engine, model routing, and a real-model run."""

from __future__ import annotations

import json

import pytest

import think
from think.config import load_profile
from think.engine.scripted import ScriptedEngine
from think.strategies.adaptive import Adaptive
from think.tasks.prompts import Prompts

Q = "Sara has 5 cookies and eats 2. How many cookies are left?"


def agreeing() -> ScriptedEngine:
    return ScriptedEngine(respond=lambda request, i: " 5 - 2 = 3.\nFinal answer: 3", name="a")


def disagreeing(name: str = "d") -> ScriptedEngine:
    return ScriptedEngine(respond=lambda request, i: f" hmm.\nFinal answer: {i % 4}", name=name)


def adaptive(engines, budget: int) -> Adaptive:
    def prompt_tokens(engine):
        prompts = Prompts(engine, Q, "math")
        return engine.count_tokens(prompts.cot()), engine.count_tokens(prompts.round_overhead())

    return Adaptive(question=Q, task="math", task_detected=True, profile=load_profile(),
                    budget=budget, engines=[(e.name, lambda e=e: e) for e in engines],
                    prompt_tokens=prompt_tokens, seed=1, emit=lambda event: None)


def test_a_settled_answer_takes_one_cheap_step() -> None:
    result = think.solve(Q, budget="auto:100", engine=agreeing(), seed=1)
    assert result.answer == "3" and len(result.steps) == 1
    assert result.steps[0].settled and result.steps[0].samples == 3
    assert result.compute.used < 5 and result.plan.strategy == "auto"


def test_disagreeing_answers_escalate_up_to_max_and_stop_there() -> None:
    result = think.solve(Q, budget="auto:20", engine=disagreeing(), seed=1)
    taken = [step for step in result.steps if step.samples]
    assert len(taken) >= 2 and not any(step.settled for step in result.steps)
    assert [step.samples for step in taken][:2] == [3, 4]
    ladder = len(load_profile().auto.steps)
    assert "stopped" in result.steps[-1].reason or len(taken) == ladder  # MAX or the top
    assert result.compute.used <= 20
    assert all("escalating" in step.reason for step in taken)


def test_an_unsettled_small_model_hands_over_to_the_larger_one() -> None:
    small, big = disagreeing("small"), agreeing()
    big.name = "big"
    result = adaptive([small, big], budget=40).solve()
    models = [step.model for step in result.steps]
    assert models[0] == "small" and models[-1] == "big"
    assert result.answer == "3" and result.steps[-1].settled and result.model == "big"
    assert result.compute.used <= 40


def test_the_big_model_is_loaded_only_when_needed() -> None:
    loaded = []

    def big_factory():
        loaded.append("big")
        return agreeing()

    run = adaptive([agreeing()], budget=40)
    run.engines.append(("big", big_factory))
    run.solve()
    assert loaded == []


def test_budget_auto_on_the_command_line(run_cli, use_engine) -> None:

    use_engine(agreeing())
    run = run_cli("solve", Q, "--budget", "auto:20", "--json")
    data = json.loads(run.stdout)
    assert run.code == 0 and data["answer"] == "3" and data["steps"][0]["settled"]
    plan = run_cli("solve", Q, "--budget", "auto", "--plan")
    assert "step 1: 3 x 192" in plan.stdout
    bad = run_cli("solve", Q, "--budget", "auto:500")
    assert bad.code == 2 and "1..100" in bad.stderr


@pytest.mark.real
def test_real_model_auto_20_reports_steps_within_the_cap() -> None:
    result = think.solve(Q, budget="auto:20", seed=2)
    assert result.steps and all(step.reason for step in result.steps)
    assert result.compute.used <= 1.25 * 20
    assert sum(step.samples for step in result.steps) == len(result.samples)
