"""Continuous batching across questions: requests from several threads share one llama.cpp
context and one decode loop, as llama-server's slots do.

Each request in flight is a lane: a Scheduler on a block of sequences of its own (its
holder, then its samples). A step gathers every lane's rows, pads them once, decodes them in
one llama_decode, and each lane draws from its own rows; a lane whose samples are done hands
its SampleResult back to the thread waiting on it and gives its sequences and cells up, and
the next waiting request is admitted. A shared prefix (few-shot examples) is evaluated once
onto PREFIX_SEQ, loaded from or saved to the disk cache, and copied into each lane.

One thread runs the loop and holds the engine's turn lock while it runs, so no other decode
ever touches the context; the callbacks of a lane run on it while that lane's caller waits.
A lane draws with its own samplers and seeds, as a lone request does, but its rows share a
batch with other lanes' rows, and llama.cpp's CPU kernels round a row of a many-row batch a
little differently from a lone one: a near-tie may go the other way.
"""

from __future__ import annotations

import threading
from collections import deque

import llama_cpp

from think.engine.base import SampleResult
from think.engine.llama.batch_rows import Entry, Group, pad_rows
from think.engine.llama.lanes import Job, Lane, LoopHost, stopping
from think.engine.llama.prefix_cache import Holder
from think.errors import Interrupted

PREFIX_SEQ, PAD_SEQ, FIRST_LANE_SEQ = 1, 2, 3  # sequence 0 is a lone request's holder
MOST_SEQS = 256  # llama.cpp's LLAMA_MAX_SEQ
MOST_LANES = 64  # a context sized for more callers than this would mostly sit empty
PROMPT_ROWS = 128  # the most prompt rows one step reads beside the sampled ones


class SharedLoop:
    """The decode loop that requests from concurrent sample() calls share."""

    def __init__(self, engine: LoopHost) -> None:
        self.engine, self.context = engine, engine.llama_context
        self.prefix = Holder(self.context, engine.prompt_cache, engine.load.n_batch, PREFIX_SEQ)
        self.lock = threading.Lock()  # guards `waiting` and `running`
        self.waiting: deque[Lane] = deque()
        self.lanes: list[Lane] = []
        self.running = False
        self.grow = False  # a request waited for want of room: grow once the lanes drain
        self.batch: llama_cpp.llama_batch | None = None
        self.steps = self.most_lanes = 0  # what tests and benchmarks read

    def submit(self, job: Job) -> SampleResult:
        """Queue a job, run the loop if none runs, and wait for the job's result."""
        lane = Lane(job)
        with self.lock:
            if stopping.is_set():  # a stopped batch's worker going on to its next request
                raise Interrupted(None)
            self.waiting.append(lane)
            if not self.running:
                self.running = True
                threading.Thread(target=self._serve, name="think-decode", daemon=True).start()
        try:
            lane.done.wait()
        except BaseException:
            lane.abandoned = True  # the loop cancels it at its next step
            raise
        if lane.error is not None:
            raise lane.error
        if lane.result is None and lane.abandoned:  # abandon_all took it before it started
            raise Interrupted(None)
        assert lane.result is not None
        return lane.result

    def _serve(self) -> None:
        with self.engine.turn:
            # A lone request's prompt stays on HOLDER between calls: its cells are given
            # back, as the lanes need every cell of the budget.
            self.engine.forget_held()
            try:
                while self._work_left():
                    try:
                        self._admit()
                        self._step()
                    except BaseException as exc:  # noqa: BLE001 - each caller hears it
                        for lane in list(self.lanes):
                            self._finish(lane, exc)
            finally:
                self._free_batch()

    def _work_left(self) -> bool:
        with self.lock:
            if not self.waiting and not self.lanes:
                self.running = False
                return False
            return True

    def _admit(self) -> None:
        """Start waiting requests, in order, while their cells, rows and sequences fit."""
        while True:
            with self.lock:
                if not self.waiting:
                    return
                lane = self.waiting[0]
                resize = not lane.abandoned and (self.grow or not self._fits(lane.job))
                if resize and self.lanes:
                    # It waits for the lanes to finish, those behind it too; then the context
                    # grows for as many lanes as there are callers, not just for it.
                    self.grow = True
                    return
                self.waiting.popleft()
                self.grow = False
            if resize and not self._resized_for(lane):
                continue
            if lane.abandoned:
                lane.done.set()
                continue
            self._start(lane)

    def _fits(self, job: Job) -> bool:
        if self.context.ctx is None or len(self.lanes) >= MOST_LANES:
            return False
        cells = sum(self._cells(lane.job) for lane in self.lanes) + self._cells(job)
        rows = sum(lane.job.shape.rows for lane in self.lanes) + job.shape.rows
        return cells <= self.context.cells and rows <= self.context.rows \
            and self._free_base(job.shape.width) is not None

    def _cells(self, job: Job) -> int:
        # A lane's own cells as fit_batch counts them, and the prefix it copies counted
        # again: an upper bound, whatever prefix PREFIX_SEQ holds by then.
        return job.shape.cells + job.prefix

    def _free_base(self, width: int) -> int | None:
        taken = {seq for lane in self.lanes for seq in lane.seqs}
        for base in range(FIRST_LANE_SEQ, self.context.seqs - width):
            if not taken.intersection(range(base, base + width + 1)):
                return base
        return None

    def _resized_for(self, lane: Lane) -> bool:
        try:
            self._resize(lane.job)
        except BaseException as exc:  # noqa: BLE001 - no context for it: its caller hears why
            self._finish(lane, exc)
            return False
        return True

    def _resize(self, job: Job) -> None:
        """With no lane live: a context for as many lanes like `job` as there have been
        callers at once, each with twice the job's cells, so that later, longer requests (a
        refine round, a top-up) still fit and the lanes seldom drain to grow it again.
        Unused cells cost memory only: a step attends over the cells in use."""
        engine = self.engine
        lanes = max(2, min(MOST_LANES, engine.most_callers))
        lanes = min(lanes, (MOST_SEQS - FIRST_LANE_SEQ) // (job.shape.width + 1))
        cells = min(engine.max_cells, max(self.context.cells, 2 * lanes * self._cells(job)))
        if self._cells(job) > cells:  # its prefix cannot be counted twice: not shared
            job.prefix = 0
        seqs = max(self.context.seqs, FIRST_LANE_SEQ + lanes * (job.shape.width + 1))
        rows = max(self.context.rows, engine.load.n_batch, lanes * job.shape.rows)
        created = self.context.created
        engine.ensure_context(cells, min(seqs, MOST_SEQS), rows)
        if self.context.created != created:
            self._free_batch()  # its rows were sized for the old context

    def _start(self, lane: Lane) -> None:
        job = lane.job
        base = self._free_base(job.shape.width)
        assert base is not None  # _fits said so
        lane.base = base
        try:
            holder = Holder(self.context, self.engine.prompt_cache, self.engine.load.n_batch,
                            base)
            lane.evaluated = self._place_prompt(lane, holder)
            lane.scheduler = self.engine.scheduler_for(job, holder, base)
        except BaseException as exc:  # noqa: BLE001 - its caller hears it
            self._finish(lane, exc)
            return
        self.lanes.append(lane)
        self.most_lanes = max(self.most_lanes, len(self.lanes))

    def _place_prompt(self, lane: Lane, holder: Holder) -> int:
        """The shared prefix copied onto the lane's holder from PREFIX_SEQ (evaluated there,
        or loaded from the disk cache, when it is new); the rest of the prompt but its last
        token is left unread, for the next steps to read beside the other lanes' rows."""
        job = lane.job
        tokens, evaluated = job.prompt[:-1], 0
        holder.context.drop(holder.seq)
        if job.prefix:
            evaluated = self.prefix.evaluate(tokens[:job.prefix], job.prefix, self._batch())
            self.context.copy(PREFIX_SEQ, holder.seq)
        holder.tokens = tokens  # read once `unread` is empty: the lane samples no sooner
        lane.unread, lane.read_from = tokens[job.prefix:], job.prefix
        return evaluated + len(lane.unread)

    def _step(self) -> None:
        """One decode for the rows of every lane, the prompt rows of lanes just admitted
        among them, then each lane draws from its own."""
        entries: list[Entry] = []
        plans: list[tuple[Lane, list[Group]]] = []
        reading = []
        for lane in list(self.lanes):
            if lane.unread and not lane.abandoned:
                reading.append(lane)
                continue
            gathered = self._gather(lane)
            if gathered is None:
                continue
            offset = len(entries)
            entries += gathered[0]
            plans.append((lane, [(seqs, row + offset, history)
                                 for seqs, row, history in gathered[1]]))
        self._add_prompt_rows(reading, entries)
        if not entries:
            return
        self.steps += 1
        outputs = sum(1 for entry in entries if entry[3])
        padded = not self.engine.gpu_layers and pad_rows(entries, outputs, PAD_SEQ)
        self.context.decode(self._batch(), entries)
        if padded:
            self.context.drop(PAD_SEQ)
        for lane, rows in plans:
            try:
                assert lane.scheduler is not None
                lane.scheduler.advance_rows(rows)
            except BaseException as exc:  # noqa: BLE001 - a callback's error is its caller's
                self._finish(lane, exc)

    def _add_prompt_rows(self, reading: list[Lane], entries: list[Entry]) -> None:
        """Prompt rows (no logits) of the lanes still reading theirs, in the room the step's
        rows leave, at most PROMPT_ROWS a step so the other lanes' tokens keep coming."""
        room = min(PROMPT_ROWS, self.context.rows - len(entries) - 2)  # 2: the padding
        for lane in reading:
            take, room = lane.unread[:max(0, room)], room - len(lane.unread)
            entries += [(token, lane.read_from + i, [lane.base], False)
                        for i, token in enumerate(take)]
            lane.unread, lane.read_from = lane.unread[len(take):], lane.read_from + len(take)
            if room <= 0:
                return

    def _gather(self, lane: Lane) -> tuple[list[Entry], list[Group]] | None:
        """A lane's rows for this step; None (and the lane finished) when it has none."""
        scheduler = lane.scheduler
        assert scheduler is not None
        try:
            if lane.abandoned:
                scheduler.cancel()
            gathered = scheduler.gather() if scheduler.busy() else None
        except BaseException as exc:  # noqa: BLE001 - a callback's error is its caller's
            self._finish(lane, exc)
            return None
        if gathered is None:
            self._finish(lane)
        return gathered

    def _finish(self, lane: Lane, error: BaseException | None = None) -> None:
        """Hand the lane's result (or error) to its caller and give its sequences up."""
        if lane in self.lanes:
            self.lanes.remove(lane)
        scheduler = lane.scheduler
        try:
            if scheduler is not None:
                scheduler.release()
                scheduler.slots.clear()  # released: never freed twice
            if self.context.ctx is not None:
                self.context.drop(lane.base)
            if error is None and scheduler is not None:
                lane.result = lane.job.result(scheduler, lane.evaluated)
        finally:
            lane.error = error if lane.result is None else None
            if lane.error is None and lane.result is None:
                lane.error = RuntimeError("the request ended without a result")
            lane.done.set()

    def _batch(self) -> llama_cpp.llama_batch:
        """A batch as wide as the context, made once per context."""
        if self.batch is None:
            self.batch = llama_cpp.llama_batch_init(self.context.rows, 0, self.context.seqs)
        return self.batch

    def _free_batch(self) -> None:
        if self.batch is not None:
            llama_cpp.llama_batch_free(self.batch)
            self.batch = None
