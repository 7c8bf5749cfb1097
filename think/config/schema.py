"""The shapes of profiles and models.yaml: strict pydantic models (unknown keys are errors,
values frozen), with the ranges each field may take."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from think.config.stage import Stage, StageSettings, Strict
from think.config.vote import VoteSettings, flattened, nested
from think.urls import server_url

__all__ = ["Stage", "StageSettings", "Strict", "VoteSettings"]  # homes: config.stage, .vote

DEFAULT_PROFILE = "default"


class EarlyStop(Strict):
    """Stop drawing samples once the vote is settled (Beta-posterior rule)."""

    enabled: bool = True
    threshold: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    min_samples: Annotated[int, Field(ge=1, le=256)] = 3


# KV cells a context keeps beyond its samples' tokens: a CPU step's two padding rows, two spare.
KV_SLACK = 4
# The shortest context think runs: a few-shot prompt and a short chain of thought fit.
MIN_CONTEXT = 256

# llama.cpp holds at most 256 sequences in a context; think adds the prompt holder and a
# sequence for padding rows to the samples, so a wider batch would fail to load.
MAX_BATCH_WIDTH = 254


class LoadSettings(Strict):
    """llama.cpp load settings for a kind of machine; None means: work it out here."""

    n_threads: Annotated[int, Field(ge=1, le=512)] | None = None
    n_gpu_layers: Annotated[int, Field(ge=-1)] = -1
    n_ctx: Annotated[int, Field(ge=MIN_CONTEXT, le=1_048_576)] | None = None
    n_batch: Annotated[int, Field(ge=32, le=65536)] = 512
    batch_width: Annotated[int, Field(ge=1, le=MAX_BATCH_WIDTH)] = 8
    prompt_cache_mb: Annotated[int, Field(ge=0, le=1_000_000)] = 256
    # Lookup decoding (guessed tokens checked in the same step, what is sampled unchanged):
    # auto = while one sample decodes alone, on = every sample, off = never.
    lookup: Literal["auto", "on", "off"] = "auto"
    # llama.cpp's extra buffer types (CPU_REPACK, AMX): auto = on unless this CPU has AMX and
    # a one-off probe saw its kernels crash (THINK_EXTRA_BUFFERS overrides).
    extra_buffers: Literal["auto", "on", "off"] = "auto"

    def sequence_context(self, model_context: int) -> int:
        """The most tokens one sequence may hold: the model's context, less when n_ctx caps
        the whole KV cache (plans and the engine both keep to it)."""
        return min(model_context, self.n_ctx - KV_SLACK) if self.n_ctx else model_context


class ServerSettings(Strict):
    """An OpenAI-compatible server that decodes for think (llama-server, vLLM, SGLang...)."""

    url: str
    model: str = ""  # the name the server serves; "" = the first it lists
    format: Literal["base", "chat"] = "chat"
    api_key_env: str = "THINK_API_KEY"
    # Each whole request, however the server sends it; a day at most (sockets take no more).
    timeout_s: Annotated[float, Field(gt=0, le=86400, allow_inf_nan=False)] = 60.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    max_in_flight: Annotated[int, Field(ge=1, le=256)] = 4

    @field_validator("url")
    @classmethod
    def _usable_url(cls, url: str) -> str:
        return server_url(url)


class AutoStep(Strict):
    """One rung of the --budget auto ladder."""

    samples: Annotated[int, Field(ge=1, le=256)] = 1
    cot_tokens: Annotated[int, Field(ge=16, le=32768)] = 256
    refine_rounds: Annotated[int, Field(ge=0, le=20)] = 0


DEFAULT_AUTO_STEPS = [AutoStep(samples=3, cot_tokens=192), AutoStep(samples=4, cot_tokens=256),
                      AutoStep(samples=8, cot_tokens=384), AutoStep(samples=16, cot_tokens=448),
                      AutoStep(samples=32, cot_tokens=448)]


class AutoSettings(Strict):
    """--budget auto: start cheap, escalate while the answer is unsettled."""

    threshold: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.9
    min_samples: Annotated[int, Field(ge=1, le=256)] = 3
    steps: list[AutoStep] = DEFAULT_AUTO_STEPS
    models: list[str] = []  # a ladder of models.yaml names; empty: the chosen model only


class Speeds(Strict):
    """What `think tune` measured on this machine, for predicting seconds."""

    measured: str = ""
    prompt_tps: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    decode_tps: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    batch_tps: dict[int, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = {}


class Profile(Strict):
    """A YAML profile: how a budget turns into a plan, and how the model is loaded."""

    name: str = DEFAULT_PROFILE
    description: str = ""
    unit_tokens: Annotated[int, Field(ge=16, le=65536)] = 256
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.7
    top_k: Annotated[int, Field(ge=0)] = 40
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] = 0.95
    # Drop tokens under min_p times the likeliest token's probability (0: off). A small model
    # sampled at 0.7 draws fewer stray tokens with it: `think tune --data` can fit with one.
    min_p: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    direct_tokens: Annotated[int, Field(ge=4, le=4096)] = 48
    answer_tokens: Annotated[int, Field(ge=4, le=1024)] = 32
    critique_tokens: Annotated[int, Field(ge=16, le=4096)] = 128
    stages: list[Stage]
    early_stop: EarlyStop = EarlyStop()
    # A vote whose samples end under their thinking cap leaves budget unspent; while the vote
    # is unsettled, that budget buys more samples, up to the vote stage's max_samples.
    top_up: bool = True
    verifier: str | None = None
    load: LoadSettings = LoadSettings()
    speeds: Speeds | None = None
    engine: ServerSettings | None = None
    auto: AutoSettings = AutoSettings()
    # Code tasks: auto = run candidates in the OS sandbox where it works, else do not run
    # them; guard = the weaker in-process guard (opted into); none = never run them.
    sandbox: Literal["auto", "guard", "none"] = "auto"
    # How a vote counts and the rule's knobs (config.vote); older profiles' flat fields
    # (vote_rule, deepconf_keep, ...) are read into it and written back from it.
    vote: VoteSettings = VoteSettings()
    source: str = ""

    @model_validator(mode="before")
    @classmethod
    def _flat_vote_fields(cls, data: Any) -> Any:
        return nested(data)

    @model_serializer(mode="wrap")
    def _written_flat(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return flattened(handler(self))

    @field_validator("stages")
    @classmethod
    def _stages_in_order(cls, stages: list[StageSettings]) -> list[StageSettings]:
        budgets = [stage.from_budget for stage in stages]
        if not budgets or budgets[0] != 1:
            raise ValueError("the first stage must have from_budget: 1")
        if budgets != sorted(set(budgets)):
            raise ValueError("from_budget must increase from one stage to the next")
        return stages

    def stage_for(self, budget: int) -> StageSettings:
        """The stage that covers this budget."""
        return [stage for stage in self.stages if stage.from_budget <= budget][-1]


class ReasoningEntry(Strict):
    """A reasoning model's thinking block: its tags, and what closes it at the cap."""

    start: str = "<think>"
    end: str = "</think>"
    stop_message: str | None = None  # default: Qwen3's ("Considering the limited time ...")
    wait: str | None = None  # what a close before the minimum becomes (default: "Wait")


class SamplingEntry(Strict):
    """A model's own sampling (its card's recommendation); unset fields keep the profile's."""

    temperature: Annotated[float, Field(ge=0.0, le=2.0)] | None = None
    top_k: Annotated[int, Field(ge=0)] | None = None
    top_p: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    min_p: Annotated[float, Field(ge=0.0, lt=1.0)] | None = None


class ModelEntry(Strict):
    """One models.yaml entry: where the GGUF file comes from and how to prompt it."""

    description: str = ""
    path: str | None = None
    package: str | None = None
    repo: str | None = None
    file: str | None = None
    sha256: str | None = None
    revision: str | None = None  # the hub commit a pull resolved once, so later pulls match it
    ollama: str | None = None  # its name in Ollama's store ("qwen3:1.7b"), found there if pulled
    size_mb: int | None = None
    format: Literal["base", "chat"] = "chat"
    context: Annotated[int, Field(ge=MIN_CONTEXT)] = 4096
    chat_template: str | None = None  # Jinja template for GGUF files that lack one
    base_url: str | None = None  # served by an OpenAI-compatible server at this URL
    served_name: str | None = None  # the server's name for it (default: the entry's name)
    reasoning: ReasoningEntry | None = None  # it thinks in a block before it answers
    sampling: SamplingEntry = SamplingEntry()
    system_prompt: bool = True  # False: instructions go in the user's turn (DeepSeek-R1)
    answer_format: Literal["final-line", "boxed"] = "final-line"
    template_kwargs: dict[str, Any] = Field(default_factory=dict)  # told to the chat template
    # The engine that runs it, by its `think.engines` name (a plugin's); None: llama.cpp for
    # a file, remote for a base_url. A plugin engine needs no file.
    engine: str | None = None

    @model_validator(mode="after")
    def _has_a_source(self) -> ModelEntry:
        if not (self.path or self.package or self.repo or self.ollama or self.base_url
                or self.engine):
            raise ValueError("give one of: path, package, repo (with file, or its GGUF is "
                             "chosen), ollama, base_url, or engine")
        return self


class Registry(Strict):
    """The models.yaml file: entries by name and the default model."""

    default: str
    models: dict[str, ModelEntry]
