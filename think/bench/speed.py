"""`think bench speed`: think's batched sampler against sequential create_completion calls,
side by side in one run on the same prompt, and the prompt cache's hit against its miss.

Two more columns time the llama.cpp batch API alone (the same rows decoded, nothing sampled):
the most any sampler on this machine can reach, so a short ratio can be read as the
machine's or as think's."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from think.bench.batch_speed import BatchRow, format_batch, time_batches
from think.bench.lookup_speed import LookupRow, format_lookup, time_lookup
from think.bench.peer import PeerRow, SolveTiming, format_peer, time_solves
from think.config import Profile
from think.engine.base import SampleRequest
from think.models import ModelSpec
from think.tasks.fewshot import FEWSHOT, QUESTION

StatusLine = Callable[[str], None]


@dataclass
class SpeedRow:
    """One width: tokens per second both ways and their ratio."""

    n: int
    sequential_tokens: int
    sequential_seconds: float
    batched_tokens: int
    batched_seconds: float
    decode_only_seconds: float

    @property
    def sequential_tps(self) -> float:
        return self.sequential_tokens / self.sequential_seconds

    @property
    def batched_tps(self) -> float:
        return self.batched_tokens / self.batched_seconds

    @property
    def ratio(self) -> float:
        return self.batched_tps / self.sequential_tps

    @property
    def decode_only_tps(self) -> float:
        return self.batched_tokens / self.decode_only_seconds

    @property
    def decode_only_ratio(self) -> float:
        return self.decode_only_tps / self.sequential_tps


@dataclass
class SpeedReport:
    """Everything `think bench speed` measured."""

    model: str
    threads: int
    gpu_layers: int
    tokens_per_sample: int
    cpu_features: list[str] = field(default_factory=list)  # the kernels the ratios come from
    buffers: str = ""  # llama.cpp's extra buffer types, on or off, and why
    rows: list[SpeedRow] = field(default_factory=list)
    prefix_tokens: int = 0
    ttft_miss: float = 0.0
    ttft_hit: float = 0.0
    peer: list[PeerRow] = field(default_factory=list)  # llama-server, with --llama-server
    solves: list[SolveTiming] = field(default_factory=list)
    lookup: list[LookupRow] = field(default_factory=list)
    batch: list[BatchRow] = field(default_factory=list)  # a file of questions, per budget

    def to_dict(self) -> dict[str, Any]:
        rows = [{**asdict(row), "sequential_tps": round(row.sequential_tps, 2),
                 "batched_tps": round(row.batched_tps, 2), "ratio": round(row.ratio, 3),
                 "decode_only_tps": round(row.decode_only_tps, 2),
                 "decode_only_ratio": round(row.decode_only_ratio, 3)}
                for row in self.rows]
        peer = [{**asdict(row), "n_request_tps": round(row.n_request_tps, 2),
                 "parallel_tps": round(row.parallel_tps, 2)} for row in self.peer]
        return {**asdict(self), "rows": rows, "peer": peer,
                "lookup": [row.to_dict() for row in self.lookup],
                "batch": [row.to_dict() for row in self.batch],
                "prompt_cache_speedup": round(self.ttft_miss / self.ttft_hit, 2)}


def run_speed(spec: ModelSpec, profile: Profile, widths: list[int], tokens: int,
              repeats: int, progress: StatusLine, peer_binary: Path | None = None,
              solve_budget: int = 20, solve_seed: int = 0,
              lookup_tokens: int = 300, batch: BatchPlan | None = None) -> SpeedReport:
    """Measure both samplers on one prompt; each row alternates the two to share the noise."""
    from think.bench.decode_only import decode_only_seconds
    from think.engine.llama import LlamaEngine
    from think.engine.llama.extra_buffers import baseline_llama
    from think.engine.llama.system import matmul_features, system_info

    load = profile.load.model_copy(update={"batch_width": max(widths)})
    engine = LlamaEngine(spec.path, spec.name, spec.format, load, context=spec.context)
    prompt = FEWSHOT + QUESTION
    # The baseline other tools use, loaded with the engine's extra buffer types.
    baseline = baseline_llama(spec.path, engine.extra_buffers,
                              n_ctx=engine.count_tokens(prompt) + tokens + 64,
                              n_batch=load.n_batch, n_threads=engine.threads,
                              n_threads_batch=engine.threads, n_gpu_layers=engine.gpu_layers,
                              verbose=False)
    end_tokens = {baseline.token_eos(): float("-inf")}
    # The server gets a slot per question a batch keeps in flight, as think's loop has lanes.
    slots = max(widths + ([batch.parallel] if batch else []))
    peer = start_peer(peer_binary, spec, engine, prompt, tokens, slots, progress)
    report = SpeedReport(spec.name, engine.threads, engine.gpu_layers, tokens,
                         matmul_features(system_info()),
                         engine.extra_buffers.describe(engine.buffer_types))

    def sequential(n: int) -> tuple[int, float]:
        start, made = time.perf_counter(), 0
        for i in range(n):
            out = baseline.create_completion(prompt, max_tokens=tokens, temperature=0.7,
                                             seed=i, logit_bias=end_tokens)
            made += cast(dict[str, Any], out)["usage"]["completion_tokens"]
        return made, time.perf_counter() - start

    def batched(n: int) -> tuple[int, float]:
        start = time.perf_counter()
        result = engine.sample(SampleRequest(prompt=prompt, n=n, max_tokens=tokens,
                                             temperature=0.7, seed=0, ignore_eos=True))
        return result.generated_tokens, time.perf_counter() - start

    try:
        # Warm both: each keeps the prompt in its KV cache, so the rows time decoding.
        sequential(1)
        batched(1)
        if peer is not None:
            peer.parallel(max(widths))  # every slot holds the prompt after this, as think's
        for n in widths:
            progress(f"N={n}: sequential, batched, decode only"
                     f"{', llama-server' if peer else ''}, {repeats} rounds")
            runs: list[list[tuple[int, float]]] = [[], [], [], []]
            raw_runs = []
            for _ in range(repeats):  # alternated, so a busy moment lands on every column
                runs[0].append(sequential(n))
                runs[1].append(batched(n))
                raw_runs.append(decode_only_seconds(engine, prompt, n, tokens))
                if peer is not None:
                    runs[2].append(peer.n_request(n))
                    runs[3].append(peer.parallel(n))
            seq, bat = best(runs[0]), best(runs[1])
            report.rows.append(SpeedRow(n, seq[0], seq[1], bat[0], bat[1], min(raw_runs)))
            if peer is not None:
                report.peer.append(PeerRow(n, *best(runs[2]), *best(runs[3])))
        progress("prompt cache: time to first token, miss and hit")
        report.prefix_tokens, report.ttft_miss, report.ttft_hit = prompt_cache_ttft(engine,
                                                                                    repeats)
        if lookup_tokens:
            progress(f"lookup decoding: a refine round and a chain of thought, "
                     f"{lookup_tokens} tokens, off and on, {repeats} rounds")
            report.lookup = time_lookup(engine, lookup_tokens, repeats)
        baseline.close()
        engine.close()  # before the solves, which load their own
        whole_runs(report, spec, profile, peer, solve_budget, solve_seed, batch, progress)
    finally:
        if peer is not None:
            peer.close()
    return report


def whole_runs(report: SpeedReport, spec: ModelSpec, profile: Profile, peer: Any,
               solve_budget: int, solve_seed: int, batch: BatchPlan | None,
               progress: StatusLine) -> None:
    """The rows that run whole solves through think: one solve both ways, and the batch."""
    if peer is not None and solve_budget:
        progress(f"a budget-{solve_budget} solve, think's engine, then through llama-server")
        report.solves = time_solves(SOLVE_QUESTION, spec.name, peer.server.url,
                                    solve_budget, solve_seed)
    if batch is not None:
        report.batch = time_batches(spec.name, profile, batch.budgets, batch.questions,
                                    batch.parallel, progress,
                                    peer.server.url if peer is not None else None)


@dataclass(frozen=True)
class BatchPlan:
    """What the batch row measures: a file of `questions` at each budget, `parallel` wide."""

    questions: int = 64
    budgets: list[int] = field(default_factory=lambda: [1, 2, 8])
    parallel: int = 16


# A GSM8K-like question for the whole-solve timing (two steps, one number).
SOLVE_QUESTION = ("A baker makes 24 muffins in the morning and 18 in the afternoon. She sells "
                  "30 of them. How many muffins does she have left?")


def best(runs: list[tuple[int, float]]) -> tuple[int, float]:
    """The fastest round (tokens, seconds): the least disturbed by the machine's other work."""
    return min(runs, key=lambda run: run[1])


def start_peer(binary: Path | None, spec: ModelSpec, engine: Any, prompt: str, tokens: int,
               widest: int, progress: StatusLine) -> Any:
    """A llama-server with a slot per sample of the widest row and the engine's threads."""
    if binary is None:
        return None
    from think.bench.peer import LlamaServer, Peer

    # Each slot holds the prompt and its tokens, or the longer samples of a solve.
    per_slot = max(engine.count_tokens(prompt) + tokens + 64, SOLVE_SLOT_CELLS)
    progress(f"llama-server: {widest} slots of {per_slot} cells, {engine.threads} threads")
    server = LlamaServer(binary, spec.path, spec.name, widest, widest * per_slot, engine.threads)
    return Peer(server, prompt, tokens)


SOLVE_SLOT_CELLS = 2048


def prompt_cache_ttft(engine: Any, repeats: int) -> tuple[int, float, float]:
    """Median time to the first token of a cold prompt, without and with its cached prefix."""
    request = SampleRequest(prompt=FEWSHOT + QUESTION, shared_prefix=FEWSHOT, n=1, max_tokens=1,
                            temperature=0.7, seed=0)
    prefix = engine.tokenize(FEWSHOT)
    misses: list[float] = []
    hits: list[float] = []
    for _ in range(repeats):
        engine.prompt_cache.discard(prefix)
        for runs in (misses, hits):
            engine.forget_prompt()
            start = time.perf_counter()
            engine.sample(request)
            runs.append(time.perf_counter() - start)
    return len(prefix), statistics.median(misses), statistics.median(hits)


def format_report(report: SpeedReport) -> str:
    """The table `think bench speed` prints."""
    device = f"{report.gpu_layers} layers on the GPU" if report.gpu_layers else "CPU only"
    features = " ".join(report.cpu_features) or "no SIMD matrix features"
    lines = [f"model {report.model}, {report.threads} threads, {device} ({features}), "
             f"{report.tokens_per_sample} tokens per sample",
             f"llama.cpp {report.buffers}" if report.buffers else "llama.cpp buffer types unknown",
             f"{'N':>3}  {'sequential tok/s':>16}  {'batched tok/s':>13}  {'batched/seq':>11}  "
             f"{'decode only tok/s':>17}  {'decode only/seq':>15}"]
    for row in report.rows:
        lines.append(f"{row.n:>3}  {row.sequential_tps:>16.1f}  {row.batched_tps:>13.1f}  "
                     f"{row.ratio:>10.2f}x  {row.decode_only_tps:>17.1f}  "
                     f"{row.decode_only_ratio:>14.2f}x")
    speedup = report.ttft_miss / report.ttft_hit
    lines.append(f"prompt cache, {report.prefix_tokens}-token prefix: time to first token "
                 f"{report.ttft_miss * 1000:.0f} ms on a miss, {report.ttft_hit * 1000:.0f} ms "
                 f"on a hit ({speedup:.1f}x)")
    lines += format_lookup(report.lookup)
    lines += format_peer(report.peer, {row.n: row.batched_tps for row in report.rows},
                         report.solves)
    lines += format_batch(report.batch)
    return "\n".join(lines)
