"""`think tune` on the embedded model writes a profile that `think solve` then uses."""

from __future__ import annotations

import json

import pytest
import yaml

from think import api, paths
from think.config import load_profile
from think.models import resolve

pytestmark = pytest.mark.real


def test_tune_writes_a_profile_that_solve_uses(run_cli, monkeypatch) -> None:
    from think.engine.llama import LlamaEngine

    batched_runs = []
    sample = LlamaEngine.sample

    def recording(self, request, *args, **kwargs):
        result = sample(self, request, *args, **kwargs)
        if request.n > 1:
            batched_runs.append(result.prompt_tokens)
        return result

    monkeypatch.setattr(LlamaEngine, "sample", recording)
    run = run_cli("tune", "--name", "bench-laptop")
    assert run.code == 0, run.stderr
    # After the warm-up, the timed batched runs decode only: the few-shot prompt stays held
    # (re-evaluating it inside the timing made 4 sequences look slower than one).
    assert len(batched_runs) == 4 and batched_runs[0] > 100
    assert all(evaluated <= 1 for evaluated in batched_runs[1:])
    path = paths.user_profiles_dir() / "bench-laptop.yaml"
    text = path.read_text()
    assert text.startswith("# Profile 'bench-laptop', written by `think tune`")
    assert "Predicted seconds" in text and "budget 100:" in text
    data = yaml.safe_load(text)
    assert data["speeds"]["decode_tps"] > 0 and set(data["speeds"]["batch_tps"]) == {4, 8, 16}
    profile = load_profile("bench-laptop")
    assert profile.load.batch_width in (4, 8, 16) and profile.load.n_threads

    solved = run_cli("solve", "What is 2 + 3?", "--profile", "bench-laptop", "-b", "2", "--json")
    assert solved.code == 0, solved.stderr
    assert json.loads(solved.stdout)["profile"] == "bench-laptop"
    engine = api.load_engine(resolve(), profile)
    assert engine.load.batch_width == profile.load.batch_width
    assert engine.threads == profile.load.n_threads

    planned = run_cli("solve", "What is 2 + 3?", "--profile", "bench-laptop", "-b", "20",
                      "--plan", "--json")
    assert json.loads(planned.stdout)["plan"]["predicted_seconds"] > 0
    fitted = run_cli("solve", "What is 2 + 3?", "--profile", "bench-laptop", "-b", "100",
                     "--plan", "--json", "--max-seconds", "5")
    plan = json.loads(fitted.stdout)["plan"]
    assert plan["budget"] < 100 and any("to fit 5 s" in note for note in plan["notes"])

    again = run_cli("tune", "--name", "bench-laptop")
    assert again.code == 2 and "--force" in again.stderr
    assert path.read_text() == text  # nothing overwritten


def test_max_seconds_stops_the_run_and_still_answers(run_cli) -> None:
    run = run_cli("solve", "Tom has 4 boxes of 6 pens. How many pens are there?", "-b", "100",
                  "--no-early-stop", "--max-seconds", "3", "--json")
    assert run.code in (0, 1), run.stderr
    data = json.loads(run.stdout)
    assert data["compute"]["seconds"] < 3 + 10  # stops drawing, forces the live samples
    assert len([s for s in data["samples"] if s["finish"] != "cancelled"]) < 53
    assert any("not cut" in note for note in data["plan"]["notes"])
