"""`think tune --data`: a profile fitted to the questions, from recorded samples replayed
through the planner, with refinement solved for real and dropped where it loses."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from think.engine.base import SampleRequest
from think.engine.prompt import prompt_text
from think.engine.scripted import ScriptedEngine


def questions(path: Path, count: int = 12) -> Path:
    path.write_text("".join(json.dumps({"id": f"q{n}", "question": f"What is {n} + 1?",
                                        "answer": f"#### {n + 1}"}) + "\n"
                            for n in range(count)))
    return path


def gold_of(text: str) -> int:
    number = text.rsplit("What is ", 1)[1].split(" + ")[0]
    return int(number) + 1


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The fit table's rows by budget, split into words."""
    return {line.split()[0]: line.split() for line in stdout.splitlines()
            if line.strip() and line.split()[0].isdigit()}


def fit_votes(run_cli, tmp_path: Path, name: str, temperatures: str, budgets: str):
    """`think tune --data` on 10 samples a question at cap 32: the run and the profile."""
    data = questions(tmp_path / "q.jsonl")
    run = run_cli("tune", "--data", str(data), "--name", name, "--samples", "10",
                  "--caps", "32", "--temperatures", temperatures, "--budgets", budgets,
                  "--refine-check", "0")
    assert run.code == 0, run.stderr
    from think import paths

    return run, yaml.safe_load((paths.user_profiles_dir() / f"{name}.yaml").read_text())


def model(request: SampleRequest, index: int) -> str:
    """Direct answers are wrong; each chain is right 2 times in 5, the wrong ones scattered,
    so a vote finds the gold; a critique always says wrong, and its revision is wrong."""
    text = prompt_text(request.prompt)
    gold = gold_of(text)
    if text.endswith("Review:"):
        return " The sum is off.\nVerdict: wrong\n"
    if text.endswith("Revised solution:"):
        return f" Recounting.\nFinal answer: {gold + 7}\n"
    if request.answer_cue == "":
        return f" {gold + 3}\n"
    seed = request.seed + index  # seed + 1000 * question + index, as recorded
    answer = gold if (seed // 1000 + seed) % 5 in (0, 3) else gold + 10 + seed % 7
    return " Add them up." + " step" * (seed % 4) + f"\nFinal answer: {answer}\n"


def test_tune_data_fits_votes_and_drops_refinement(run_cli, use_engine, tmp_path: Path) -> None:
    use_engine(ScriptedEngine(respond=model))
    data = questions(tmp_path / "q.jsonl")
    run = run_cli("tune", "--data", str(data), "--name", "mine", "--samples", "8",
                  "--caps", "32,64", "--budgets", "1,2,8,16", "--refine-check", "3")
    assert run.code == 0, run.stderr
    from think import paths

    written = paths.user_profiles_dir() / "mine.yaml"
    profile = yaml.safe_load(written.read_text())
    strategies = [stage["strategy"] for stage in profile["stages"]]
    # Votes pay on this model and refinement only breaks answers: the fit says so.
    assert "vote" in strategies and "refine" not in strategies
    assert profile["stages"][0]["from_budget"] == 1
    header = written.read_text().split("\n")
    assert header[0].startswith("# Profile 'mine', fitted by `think tune --data`")
    assert any("refinement at budget 8 on 3 fit questions" in line and "dropped" in line
               for line in header)
    # The table compares the fitted profile with the default on the held-out half.
    assert "fitted acc" in run.stdout and "default acc" in run.stdout
    rows = table_rows(run.stdout)
    assert set(rows) == {"1", "2", "8", "16"}
    # At budget 16 both vote; the fitted one at least as well.
    default16, fitted16 = (float(rows["16"][i].rstrip("%*")) for i in (3, 5))
    assert fitted16 >= default16
    # The profile it wrote is one `think solve` takes.
    solve = run_cli("solve", "What is 4 + 1?", "-b", "16", "-p", "mine", "--json")
    assert solve.code == 0, solve.stderr
    assert json.loads(solve.stdout)["answer"] == "5"


def test_tune_data_refuses_before_recording(run_cli, use_engine, tmp_path: Path) -> None:
    engine = ScriptedEngine(respond=model)
    use_engine(engine)
    few = questions(tmp_path / "few.jsonl", count=3)
    run = run_cli("tune", "--data", str(few), "--name", "x")
    assert run.code != 0 and "a fit needs at least 4" in run.stderr
    assert "Traceback" not in run.stderr
    run = run_cli("tune", "--data", str(tmp_path / "missing.jsonl"), "--name", "x")
    assert run.code != 0 and "cannot read" in run.stderr
    run = run_cli("tune", "--data", str(few), "--name", "x", "--caps", "0")
    assert run.code != 0 and "--caps" in run.stderr
    assert engine.history == []  # nothing was drawn for any of them


def greedy_is_right(request: SampleRequest, index: int) -> str:
    """One greedy chain is always right; sampled chains mostly agree on one wrong answer, so
    their votes lose: a fit that scored one chain from sampled chains would pick votes."""
    text = prompt_text(request.prompt)
    gold = gold_of(text)
    if request.answer_cue == "":
        return f" {gold + 3}\n"
    if request.temperature == 0:
        return f" Add them up.\nFinal answer: {gold}\n"
    return f" Add them up.\nFinal answer: {gold if index % 5 == 4 else gold + 10}\n"


def test_one_chain_is_scored_as_a_solve_draws_it_greedily(run_cli, use_engine,
                                                          tmp_path: Path) -> None:
    use_engine(ScriptedEngine(respond=greedy_is_right))
    data = questions(tmp_path / "q.jsonl")
    run = run_cli("tune", "--data", str(data), "--name", "greedy", "--samples", "8",
                  "--caps", "32,64", "--budgets", "2,4,16", "--refine-check", "0")
    assert run.code == 0, run.stderr
    from think import paths

    profile = yaml.safe_load((paths.user_profiles_dir() / "greedy.yaml").read_text())
    assert [stage["strategy"] for stage in profile["stages"]] == ["cot"]
    rows = table_rows(run.stdout)
    assert float(rows["2"][5].rstrip("%*")) == 100.0  # the fitted chain, held out


def cool_votes_pay(request: SampleRequest, index: int) -> str:
    """Greedy chains and direct answers are wrong; samples at 0.3 are right 3 times in 5,
    samples at 0.7 twice in 5 with the wrong ones agreeing, so only the cooler vote finds
    the gold."""
    text = prompt_text(request.prompt)
    gold = gold_of(text)
    if request.answer_cue == "" or request.temperature == 0:
        return f" Add them up.\nFinal answer: {gold + 3}\n"
    seed = request.seed + index
    if request.temperature <= 0.3:
        answer = gold if seed % 5 in (0, 2, 4) else gold + 10 + seed % 7
    else:
        answer = gold if seed % 5 in (0, 3) else gold + 1
    return f" Add them up.\nFinal answer: {answer}\n"


def test_the_fit_chooses_the_vote_temperature_and_solves_use_it(run_cli, use_engine,
                                                                 tmp_path: Path) -> None:
    engine = ScriptedEngine(respond=cool_votes_pay)
    use_engine(engine)
    run, profile = fit_votes(run_cli, tmp_path, "cool", "0.7,0.3", "2,8")
    votes = [stage for stage in profile["stages"] if stage["strategy"] == "vote"]
    assert votes and votes[0]["temperature"] == 0.3
    rows = table_rows(run.stdout)
    assert rows["8"][1].startswith("vote@32,T0.3")
    # The default votes at 0.7 and loses to the cooler vote on the held-out half.
    assert float(rows["8"][5].rstrip("%*")) > float(rows["8"][3].rstrip("%*"))
    plan = run_cli("solve", "What is 4 + 1?", "-b", "8", "-p", "cool", "--plan")
    assert "at temperature 0.3" in plan.stdout + plan.stderr
    engine.history.clear()
    solve = run_cli("solve", "What is 4 + 1?", "-b", "8", "-p", "cool", "--json")
    assert solve.code == 0, solve.stderr
    assert json.loads(solve.stdout)["answer"] == "5"
    assert {request.temperature for request in engine.history} == {0.3}


def samples_agree(request: SampleRequest, index: int) -> str:
    """Greedy chains and direct answers are wrong; every sampled chain is right, so a vote
    is settled by its first agreeing samples."""
    gold = gold_of(prompt_text(request.prompt))
    if request.answer_cue == "" or request.temperature == 0:
        return f" Add them up.\nFinal answer: {gold + 3}\n"
    return f" Add them up.\nFinal answer: {gold}\n"


def test_the_fit_chooses_the_early_stop_threshold_and_solves_use_it(run_cli, use_engine,
                                                                    tmp_path: Path) -> None:
    use_engine(ScriptedEngine(respond=samples_agree))
    run, profile = fit_votes(run_cli, tmp_path, "quick", "0.7", "8")
    # Three agreeing samples settle a vote at 0.8 (P 0.94); the default's 0.95 needs four.
    [vote] = profile["stages"]
    assert vote["strategy"] == "vote" and vote["early_stop_threshold"] == 0.8
    rows = table_rows(run.stdout)
    assert rows["8"][1] == "vote@32,T0.7,stop0.8"
    default_units, fitted_units = float(rows["8"][4]), float(rows["8"][6])
    assert rows["8"][5] == "100.0%" and fitted_units < default_units
    plan = run_cli("solve", "What is 4 + 1?", "-b", "8", "-p", "quick", "--plan")
    assert "early stop at 80%" in plan.stdout + plan.stderr
    solve = run_cli("solve", "What is 4 + 1?", "-b", "8", "-p", "quick", "--json")
    assert solve.code == 0, solve.stderr
    result = json.loads(solve.stdout)
    assert result["answer"] == "5" and len(result["samples"]) == 3


def sure_minority(request: SampleRequest, index: int) -> str:
    """Greedy chains and direct answers are wrong; 2 sampled chains in 5 are right, and the
    other 3 agree on one wrong answer (their confidences: sure_minority_confidence)."""
    gold = gold_of(prompt_text(request.prompt))
    if request.answer_cue == "" or request.temperature == 0:
        return f" Add them up.\nFinal answer: {gold + 3}\n"
    right = (request.seed + index) % 5 in (0, 3)
    return f" Add them up.\nFinal answer: {gold if right else gold + 1}\n"


def sure_minority_confidence(seed: int, token: int) -> float:
    """The right samples are a little surer (2.4 against 2.0 a token): a softmax at 1 weighs
    2 right against 3 wrong as 2 * e^0.4 = 2.98 < 3, so only a sharper one follows them."""
    return 2.4 if seed % 5 in (0, 3) else 2.0


def test_the_fit_chooses_a_sharper_cisc_and_records_at_its_min_p(run_cli, use_engine,
                                                                  tmp_path: Path) -> None:
    engine = ScriptedEngine(respond=sure_minority, token_confidence=sure_minority_confidence)
    use_engine(engine)
    data = questions(tmp_path / "q.jsonl")
    run = run_cli("tune", "--data", str(data), "--name", "sharp", "--samples", "10",
                  "--caps", "32", "--temperatures", "0.7", "--budgets", "8",
                  "--refine-check", "0", "--min-p", "0.1")
    assert run.code == 0, run.stderr
    from think import paths

    written = (paths.user_profiles_dir() / "sharp.yaml").read_text()
    profile = yaml.safe_load(written)
    assert profile["vote_rule"] == "cisc" and profile["cisc_temperature"] < 1
    assert profile["min_p"] == 0.1
    assert f"# Vote rule: cisc:{profile['cisc_temperature']:g}." in written
    # Every sampled chain was recorded at the min-p asked for.
    assert {r.min_p for r in engine.history if r.temperature > 0} == {0.1}
    rows = table_rows(run.stdout)
    assert rows["8"][1].startswith("vote@32,T0.7,cisc:")
    # The default counts votes, so the sure minority never wins there.
    assert rows["8"][3] == "0.0%" and float(rows["8"][5].rstrip("%")) > 50
    assert "default is replayed on the samples drawn at min-p 0.1 (its own min-p is 0)" \
        in run.stdout
    engine.history.clear()
    solve = run_cli("solve", "What is 4 + 1?", "-b", "8", "-p", "sharp", "--json")
    assert solve.code == 0, solve.stderr
    assert json.loads(solve.stdout)["answer"] == "5"
    assert {r.min_p for r in engine.history if r.temperature > 0} == {0.1}


def test_tune_data_refuses_bad_temperatures(run_cli, use_engine, tmp_path: Path) -> None:
    engine = ScriptedEngine(respond=model)
    use_engine(engine)
    data = questions(tmp_path / "q.jsonl")
    for bad in ("warm", "0", "0.3,3", "nan", "0.3,inf"):
        run = run_cli("tune", "--data", str(data), "--name", "x", "--temperatures", bad)
        assert run.code == 2 or run.code == 1, run.stderr
        assert "--temperatures" in run.stderr and "Traceback" not in run.stderr
    for bad in ("1", "1.5", "-0.1"):  # min-p 1 keeps only the likeliest token: no vote at all
        run = run_cli("tune", "--data", str(data), "--name", "x", "--min-p", bad)
        assert run.code in (1, 2) and "--min-p" in run.stderr, run.stderr
        assert "Traceback" not in run.stderr
    assert engine.history == []


def test_the_report_pairs_each_budget_with_one_chain_on_the_same_questions() -> None:
    from think.fit.replay import Score
    from think.fit.report import Comparison, paired_lines

    chain = Score(0.5, 0.5, 4, right=(True, False, True, False))
    vote = Score(1.0, 2.0, 4, right=(True, True, True, True))
    fewer = Score(1.0, 2.0, 2, measured="solved", right=(True, True))
    comparison = Comparison([2, 8, 16], {}, {2: chain, 8: vote, 16: fewer},
                            chain=("fitted", 2, chain))
    # Budget 8 gains the two questions the chain missed; budget 16 was solved on fewer
    # questions, so it is not paired.
    assert paired_lines(comparison) == [
        "fitted budget 8 vs one chain (fitted budget 2), paired on 4 held-out questions: "
        "+50.0% (95% CI -6.6% to +106.6%)"]
    assert paired_lines(Comparison([2, 8], {}, {2: chain, 8: vote})) == []


def test_with_no_chain_of_its_own_the_fit_is_paired_against_the_base_chain(
        run_cli, use_engine, tmp_path: Path) -> None:
    use_engine(ScriptedEngine(respond=cool_votes_pay))
    data = questions(tmp_path / "q.jsonl")
    run = run_cli("tune", "--data", str(data), "--name", "cool", "--samples", "10",
                  "--caps", "32", "--budgets", "8,2", "--refine-check", "0")
    assert run.code == 0, run.stderr
    # The fit votes at both budgets; the default draws one chain at 2 (wrong on this model).
    assert "fitted budget 8 vs one chain (default budget 2), paired on 6 held-out " \
           "questions: +100.0%" in run.stdout


def fitting_with_a_recording(use_engine, respond, tmp_path: Path
                             ) -> tuple[ScriptedEngine, list[str], Path]:
    """A scripted model in use, and `think tune --data` arguments that keep a recording."""
    engine = ScriptedEngine(respond=respond)
    use_engine(engine)
    data = questions(tmp_path / "q.jsonl")
    kept = tmp_path / "kept.json"
    return engine, ["tune", "--data", str(data), "--samples", "8", "--caps", "32",
                    "--budgets", "1,2,8", "--refine-check", "0", "--recording", str(kept)], kept


def test_a_kept_recording_is_fitted_again_without_drawing(run_cli, use_engine,
                                                          tmp_path: Path) -> None:
    engine, args, kept = fitting_with_a_recording(use_engine, model, tmp_path)
    first = run_cli(*args, "--name", "one")
    assert first.code == 0, first.stderr
    assert kept.exists() and engine.history
    engine.history.clear()
    again = run_cli(*args, "--name", "two")
    assert again.code == 0, again.stderr
    assert engine.history == []  # nothing drawn: the same samples, replayed
    table = [line for line in first.stdout.splitlines() if not line.startswith("wrote")]
    assert table == [line for line in again.stdout.splitlines() if not line.startswith("wrote")]
    other = run_cli(*[a if a != "8" else "6" for a in args], "--name", "three")
    assert other.code != 0 and "recorded with other settings (samples)" in other.stderr
    assert "Traceback" not in other.stderr and engine.history == []
    for broken_text in ("{not json", '{"version": 1, "settings": [1], "halves": []}',
                        '{"version": 9, "settings": {}, "halves": []}'):
        kept.write_text(broken_text)
        broken = run_cli(*args, "--name", "four")
        assert broken.code != 0 and "is not a recording kept by think tune" in broken.stderr
        assert "Traceback" not in broken.stderr
    missing = run_cli(*args[:-1], str(tmp_path / "no" / "kept.json"), "--name", "five")
    assert missing.code != 0 and "its folder does not exist" in missing.stderr


def test_a_model_with_its_own_temperature_is_recorded_at_it_only(run_cli, use_engine,
                                                                tmp_path: Path) -> None:
    from think.engine.rules import ModelRules

    engine = ScriptedEngine(respond=model, rules=ModelRules(temperature=0.6))
    use_engine(engine)
    data = questions(tmp_path / "q.jsonl")
    run = run_cli("tune", "--data", str(data), "--name", "card", "--samples", "8",
                  "--caps", "32", "--budgets", "2,8", "--refine-check", "0")
    assert run.code == 0, run.stderr
    assert "sample at temperature 0.6; votes are recorded at that one only" in run.stderr
    assert {r.temperature for r in engine.history if r.n > 1} == {0.6}
    assert "T0.3" not in run.stdout and "T0.7" not in run.stdout


def test_the_held_out_questions_are_written_for_real_solves(run_cli, use_engine,
                                                            tmp_path: Path) -> None:
    use_engine(ScriptedEngine(respond=samples_agree))
    data = questions(tmp_path / "q.jsonl")
    held = tmp_path / "held.jsonl"
    args = ["tune", "--data", str(data), "--samples", "6", "--caps", "32", "--budgets", "1,8",
            "--refine-check", "0", "--held-out", str(held)]
    run = run_cli(*args, "--name", "held")
    assert run.code == 0, run.stderr
    rows = [json.loads(line) for line in held.read_text().splitlines()]
    asked = {json.loads(line)["question"]: json.loads(line)["answer"]
             for line in data.read_text().splitlines()}
    # Half of the 12 questions, no repeats, each with its own gold.
    assert len({row["question"] for row in rows}) == 6
    assert all(asked[row["question"]] == row["answer"] for row in rows)
    assert f"think bench accuracy {held} --budgets 1,8 -p held" in run.stdout
    bench = run_cli("bench", "accuracy", str(held), "--budgets", "8", "-p", "held",
                    "--out", str(tmp_path / "acc.json"))
    assert bench.code == 0, bench.stderr
    assert "100.0%" in bench.stdout  # every sampled chain is right on this model
    # A file that holds something is never overwritten; nothing is recorded first.
    before = held.read_text()
    again = run_cli(*args, "--name", "held2", "--force")
    assert again.code != 0 and "--held-out" in again.stderr and "exists" in again.stderr
    assert held.read_text() == before and "Traceback" not in again.stderr


def test_a_vote_rule_carries_its_knobs_into_the_fitted_profile() -> None:
    from think.config import load_profile
    from think.fit.choice import replace_stages
    from think.strategies.confidence import VoteRule

    shipped = load_profile("default")
    base = shipped.model_copy(update={"vote": shipped.vote.model_copy(
        update={"keep": 0.5, "by": "tail", "temperature": 2.0})})
    stage = [{"from_budget": 1, "strategy": "cot", "cot_tokens": 64}]
    # The rule a fit scored is the rule the profile counts by, not the base's knobs.
    for label in ("deepconf", "deepconf:0.3:tail", "cisc:0.25", "cisc"):
        profile = replace_stages(base, stage, label)
        assert VoteRule.of(profile).label == VoteRule.parse(label).label, label


def writes_programs(request: SampleRequest, index: int) -> str:
    """Chains are right 2 times in 5 (as `model`); programs are right 4 times in 5 and the
    greedy one always: a fit that records programs should choose them."""
    text = prompt_text(request.prompt)
    if not text.endswith("Python:"):
        return model(request, index)
    number = gold_of(text) - 1
    if request.temperature == 0 or (request.seed + index) % 5:
        return f" {number} + 1\n"
    return f" {number} - 1\n"


def test_the_fit_chooses_programs_where_they_pay_and_they_run_in_the_sandbox(
        run_cli, use_engine, tmp_path: Path) -> None:
    engine, args, _ = fitting_with_a_recording(use_engine, writes_programs, tmp_path)
    # First without programs; then the kept recording gets them, and no chain is drawn again.
    run = run_cli(*args, "--name", "chains", "--programs", "0")
    assert run.code == 0, run.stderr
    engine.history.clear()
    run = run_cli(*args, "--name", "programs")
    assert run.code == 0, run.stderr
    assert "adding programs to the recording kept" in run.stderr
    assert engine.history and all(prompt_text(r.prompt).endswith("Python:")
                                  for r in engine.history)
    from think import paths

    profile = yaml.safe_load((paths.user_profiles_dir() / "programs.yaml").read_text())
    assert [s["strategy"] for s in profile["stages"]][0] == "program"
    assert all(s["strategy"] == "program" for s in profile["stages"])
    assert "vs one program (fitted budget 1)" in run.stdout
    assert "vs one chain (default budget 2)" in run.stdout
    rows = table_rows(run.stdout)
    assert rows["1"][1] == "program@48" and float(rows["1"][5].rstrip("%")) == 100.0
    # The kept recording now holds the programs: fitting again draws nothing.
    engine.history.clear()
    again = run_cli(*args, "--name", "again")
    assert again.code == 0 and engine.history == [], again.stderr
    solve = run_cli("solve", "What is 41 + 1?", "-b", "1", "-p", "programs", "--json")
    assert solve.code == 0, solve.stderr
    answer = json.loads(solve.stdout)
    assert answer["answer"] == "42" and answer["samples"][0]["ran"] == "passed"
    assert answer["sandbox"] == "bwrap"
