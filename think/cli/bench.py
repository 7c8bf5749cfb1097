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
    llama_server: Annotated[str | None, typer.Option(
        "--llama-server", help="A llama-server binary to time beside think "
        "(default: $THINK_LLAMA_SERVER).", show_default=False)] = None,
    solve_budget: Annotated[int, typer.Option(
        min=0, help="With --llama-server, a solve of this budget both ways (0: none).")] = 20,
    lookup_tokens: Annotated[int, typer.Option(
        min=0, max=4096, help="Tokens of the lookup decoding rows (0: none).")] = 300,
    batch_questions: Annotated[int, typer.Option(
        min=0, max=10000, metavar="N", help="Questions of the batch row: a file of small sums "
        "answered one at a time and batched (0: no batch row).")] = 64,
    batch_budgets: Annotated[str, typer.Option(
        metavar="B,...", help="Budgets of the batch row.")] = "1,2,8",
    batch_parallel: Annotated[int, typer.Option(
        min=2, max=256, metavar="N", help="Questions in flight in the batch row (and "
        "llama-server's slots).")] = 16,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Tokens/s of N sequential completions against think's batched sampler; prompt cache;
    lookup decoding off and on; questions/s of a file answered one at a time and batched;
    with --llama-server, llama.cpp's server on the same prompt, a solve both ways and the
    file through its slots."""
    from think.bench.peer import server_binary
    from think.bench.speed import BatchPlan, format_report, run_speed
    from think.config import MAX_BATCH_WIDTH, load_profile
    from think.models import resolve

    sizes = int_list(widths, "--widths", most=MAX_BATCH_WIDTH)
    batch = BatchPlan(batch_questions, int_list(batch_budgets, "--batch-budgets", most=100),
                      batch_parallel) if batch_questions else None
    check_out_path("--out", out)
    spec = resolve(model)
    binary = server_binary(llama_server)
    report = run_speed(spec, load_profile(profile), sizes, tokens, repeats,
                       lambda text: print(f"bench: {text}", file=sys.stderr), binary,
                       solve_budget, lookup_tokens=lookup_tokens, batch=batch)
    if as_json:
        print_json(report.to_dict())
    else:
        print(format_report(report))
    print(f"JSON: {write_json(report.to_dict(), out, 'speed')}", file=sys.stderr)


@app.command("memory")
def bench_memory(
    model: ModelOption = None,
    profile: ProfileOption = None,
    widths: Annotated[str, typer.Option(help="Sample counts N to measure.")] = "1,8,16,64",
    tokens: Annotated[int, typer.Option(min=1, max=4096, help="Tokens per sample.")] = 448,
    budget: Annotated[int, typer.Option(min=1, help="Budget of the repeated vote.")] = 100,
    solves: Annotated[int, typer.Option(min=0, help="Repeated solves (0: no growth check).")
                      ] = 20,
    out: Annotated[str | None, typer.Option(help="Where to write the JSON report.",
                                            show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Peak RSS and KV cache of N samples (a fresh process each), and RSS across repeated
    votes in one process."""
    from dataclasses import asdict

    from think.bench.memory import format_memory, run_memory
    from think.config import MAX_BATCH_WIDTH

    sizes = int_list(widths, "--widths", most=MAX_BATCH_WIDTH)
    check_out_path("--out", out)
    report = run_memory(model, profile, sizes, tokens, budget, solves,
                        lambda text: print(f"bench: {text}", file=sys.stderr, flush=True))
    if as_json:
        print_json(asdict(report))
    else:
        print(format_memory(report))
    print(f"JSON: {write_json(asdict(report), out, 'memory')}", file=sys.stderr)


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
    from think.bench.record import open_output, record_samples
    from think.config import load_profile
    from think.models import resolve
    from think.planning.budget import Plan
    from think.tasks.datasets import load_items

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
    recording: Annotated[str | None, typer.Argument(
        help="A file written by `think bench record` (or --from-logs).",
        show_default=False)] = None,
    from_logs: Annotated[bool, typer.Option(
        "--from-logs", help="Replay the votes logged in the history of runs (`think logs`).")
    ] = False,
    query: Annotated[str | None, typer.Option(
        "--query", "-q", help="With --from-logs: only runs whose question or answer has this.",
        show_default=False)] = None,
    rules: Annotated[str, typer.Option(help="Rules: full, beta:THRESHOLD, esc:WINDOW; vote "
                                       "rules over all K samples: majority, cisc[:T], "
                                       "deepconf[:KEEP]; DeepConf's online stop: "
                                       "online[:KEEP[:WARMUP]] (these need recorded "
                                       "confidences).")] = (
        "full,beta:0.8,beta:0.9,beta:0.95,beta:0.99,esc:4,esc:8"),
    min_samples: Annotated[int, typer.Option(min=1, help="Fewest samples before the Beta "
                                             "rule may stop.")] = 3,
    first: Annotated[int | None, typer.Option(
        "--samples", min=1, help="Replay only each question's first N samples (compare "
        "rules at equal samples).", show_default=False)] = None,
    window: Annotated[int | None, typer.Option(
        min=4, help="Measure confidences over windows of this many tokens (from the recorded "
        "token traces); default: as recorded.", show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay stopping and vote rules on recorded samples: samples used, tokens, agreement,
    accuracy, and the samples each vote rule needs to match the full majority."""
    from dataclasses import asdict
    from pathlib import Path

    from think.bench.replay import (
        format_scores,
        load_recordings,
        mean_tokens,
        recordings_from_logs,
        replay,
        rewindowed,
    )

    if from_logs == (recording is not None):
        raise UsageError("give a recording file or --from-logs, one of the two",
                         "think bench replay FILE, or think bench replay --from-logs")
    if recording is None:
        from think import history

        recordings = recordings_from_logs(history.runs(limit=0, query=query), query)
    else:
        recordings = load_recordings(Path(recording))
    if window is not None:
        recordings = rewindowed(recordings, window)
    if first is not None:
        recordings = [r.first(first) for r in recordings]
    scores = [replay(recordings, rule.strip(), min_samples) for rule in rules.split(",")
              if rule.strip()]
    k = max((len(r.answers) for r in recordings), default=0)
    if as_json:
        print_json({"questions": len(recordings), "samples": k,
                     "rules": [asdict(score) for score in scores]})
    else:
        print(format_scores(scores, len(recordings), k, mean_tokens(recordings)))


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
    parallel: Annotated[int, typer.Option(
        min=1, max=256, help="Questions solved at once (the local engine batches them, a "
        "server takes concurrent requests); the report keeps question order.")] = 8,
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
                          lambda text: print(f"bench: {text}", file=sys.stderr, flush=True),
                          parallel)
    report.update({"dataset": dataset, "seed": seed, "model": model, "profile": profile})
    print(format_table(report))
    print(ascii_curve(report))
    print(f"JSON: {write_json(report, out, 'accuracy')}", file=sys.stderr)
    if plot:
        plot_png(report, Path(plot))
        print(f"plot: {plot}", file=sys.stderr)
    if report.get("interrupted"):
        raise KeyboardInterrupt  # what finished is out; now end as an interrupted run does


@app.command("compare")
def bench_compare(
    first: Annotated[str, typer.Argument(help="A JSON report of `think bench accuracy`.")],
    second: Annotated[str, typer.Argument(help="Another one.")],
) -> None:
    """Two accuracy reports side by side (two profiles, two models)."""
    from pathlib import Path

    from think.bench.compare import compare, load_report

    print(compare(load_report(Path(first)), load_report(Path(second)),
                  (Path(first).stem, Path(second).stem)))
