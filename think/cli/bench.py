"""`think bench`: measure think on this machine (speed, stopping rules, accuracy)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from think.cli.common import (
    ModelOption,
    ProfileOption,
    check_out_path,
    int_list,
    print_json,
    write_json,
)
from think.errors import ThinkError, UsageError

app = typer.Typer(no_args_is_help=True, help="Measure think on this machine.")


@app.command("speed")
def bench_speed(
    model: ModelOption = None,
    profile: ProfileOption = None,
    widths: Annotated[str, typer.Option(help="Sample counts N to measure.")] = "1,4,8,16",
    tokens: Annotated[int, typer.Option(min=1, max=4096, help="Tokens per sample.")] = 64,
    repeats: Annotated[int, typer.Option(min=1, max=20, help="Rounds per row (best kept).")] = 2,
    out: Annotated[str | None, typer.Option(help="Where to write the JSON report.",
                                               show_default=False)] = None,
) -> None:
    """Tokens/s of N sequential completions against think's batched sampler; prompt cache."""
    from think.bench.speed import format_report, run_speed
    from think.config import MAX_BATCH_WIDTH, load_profile
    from think.models import resolve

    sizes = int_list(widths, "--widths", most=MAX_BATCH_WIDTH)
    check_out_path("--out", out)
    spec = resolve(model)
    report = run_speed(spec, load_profile(profile), sizes,
                       tokens, repeats, lambda text: print(f"bench: {text}", file=sys.stderr))
    print(format_report(report))
    print(f"JSON: {write_json(report.to_dict(), out, 'speed')}", file=sys.stderr)


@app.command("record")
def bench_record(
    dataset: Annotated[str, typer.Argument(help="JSONL questions (GSM8K format or "
                                           "question/answer fields).")],
    out: Annotated[str, typer.Option(help="The recording to write (JSONL).")],
    samples: Annotated[int, typer.Option(min=2, max=256, help="Samples per question.")] = 40,
    limit: Annotated[int, typer.Option(min=1, help="Questions, a seeded random slice.")] = 30,
    seed: Annotated[int, typer.Option(help="Seed for the slice and the samples.")] = 0,
    cot_tokens: Annotated[int, typer.Option(min=16, help="Thinking cap per sample.")] = 256,
    model: ModelOption = None,
    profile: ProfileOption = None,
) -> None:
    """Draw SAMPLES answers per question once, for `think bench replay`."""
    from pathlib import Path

    from think import api
    from think.bench.datasets import load_items
    from think.bench.record import open_output, record_samples
    from think.config import load_profile
    from think.models import resolve
    from think.planning.budget import Plan

    # A recording takes long to draw: never write over one, or over the dataset.
    check_out_path("--out", out, (dataset,), keep_existing=True)
    items = load_items(Path(dataset), limit, seed)
    chosen = load_profile(profile)
    plan = Plan(budget=100, strategy="vote", cot_tokens=cot_tokens, samples=samples,
                refine_rounds=0, temperature=chosen.temperature,
                answer_tokens=chosen.answer_tokens, critique_tokens=chosen.critique_tokens,
                unit_tokens=chosen.unit_tokens, planned_tokens=0)
    engine = api.load_engine(resolve(model), chosen)
    try:
        handle = open_output(Path(out))
    except OSError as exc:
        raise ThinkError(f"cannot write {out}: {exc.strerror}",
                         "choose another --out path") from None
    with handle:
        record_samples(engine, items, plan, seed, handle,
                       lambda text: print(f"record: {text}", file=sys.stderr))


@app.command("replay")
def bench_replay(
    recording: Annotated[str, typer.Argument(help="A file written by `think bench record`.")],
    rules: Annotated[str, typer.Option(help="Rules: full, beta:THRESHOLD, esc:WINDOW.")] = (
        "full,beta:0.8,beta:0.9,beta:0.95,beta:0.99,esc:4,esc:8"),
    min_samples: Annotated[int, typer.Option(min=1, help="Fewest samples before the Beta "
                                             "rule may stop.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay stopping rules on recorded samples: samples used, agreement, accuracy."""
    from dataclasses import asdict
    from pathlib import Path

    from think.bench.replay import format_scores, load_recordings, replay

    recordings = load_recordings(Path(recording))
    scores = [replay(recordings, rule.strip(), min_samples) for rule in rules.split(",")
              if rule.strip()]
    k = max((len(r.answers) for r in recordings), default=0)
    if as_json:
        print_json({"questions": len(recordings), "samples": k,
                     "rules": [asdict(score) for score in scores]})
    else:
        print(format_scores(scores, len(recordings), k))


@app.command("accuracy")
def bench_accuracy(
    dataset: Annotated[str, typer.Argument(
        help="GSM8K-format JSONL, question/answer JSONL, or 'humaneval'.")],
    budgets: Annotated[str, typer.Option(
        help="Budgets to compare; auto:MAX adds an adaptive row.")] = "1,2,4,8,20",
    limit: Annotated[int, typer.Option(min=1, help="Questions, a seeded random slice.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed for the slice and the runs.")] = 0,
    model: ModelOption = None,
    profile: ProfileOption = None,
    out: Annotated[str | None, typer.Option(help="Where to write the JSON report.",
                                            show_default=False)] = None,
    plot: Annotated[str | None, typer.Option(help="Also draw the curve as a PNG file.",
                                             show_default=False)] = None,
) -> None:
    """Accuracy at each budget with 95% intervals, units used, and the fitted alpha."""
    from pathlib import Path

    from think import api
    from think.bench.accuracy import (
        Question,
        ascii_curve,
        check_plotting,
        format_table,
        load_questions,
        plot_png,
        run_accuracy,
    )
    from think.planning.budget import Budget
    from think.result import Result

    chosen: list[int | str] = []
    for spec in (part.strip() for part in budgets.split(",") if part.strip()):
        parsed = Budget.of(spec)
        chosen.append(str(parsed) if parsed.adaptive else parsed.units)
    if not chosen:
        raise UsageError(f"--budgets '{budgets}' names no budget", "e.g. 1,2,4,8,auto:20")
    check_out_path("--out", out, (dataset,))
    check_out_path("--plot", plot, (dataset,))
    if plot:
        check_plotting()
    questions = load_questions(dataset, limit, seed)

    def solve(question: Question, budget: int | str) -> Result:
        given = question.given
        return api.solve(question.question, budget=budget, profile=profile, model=model,
                         task=question.task, seed=seed, tests=given.tests if given else None,
                         code_prefix=given.prefix if given else "")

    report = run_accuracy(questions, chosen, solve,
                          lambda text: print(f"bench: {text}", file=sys.stderr, flush=True))
    report.update({"dataset": dataset, "seed": seed, "model": model, "profile": profile})
    print(format_table(report))
    print(ascii_curve(report))
    print(f"JSON: {write_json(report, out, 'accuracy')}", file=sys.stderr)
    if plot:
        plot_png(report, Path(plot))
        print(f"plot: {plot}", file=sys.stderr)


@app.command("compare")
def bench_compare(
    first: Annotated[str, typer.Argument(help="A JSON report of `think bench accuracy`.")],
    second: Annotated[str, typer.Argument(help="Another one.")],
) -> None:
    """Two accuracy reports side by side (two profiles, two models)."""
    from pathlib import Path

    from think.bench.accuracy import compare, load_report

    print(compare(load_report(Path(first)), load_report(Path(second)),
                  (Path(first).stem, Path(second).stem)))
