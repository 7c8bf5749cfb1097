"""Profiles and models.yaml: shipped files load, user files override, bad files say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from think import paths
from think.config import load_profile, load_registry, profile_files
from think.errors import ConfigError, UsageError
from think.models import resolve


def write_user_profile(name: str, text: str) -> Path:
    folder = paths.user_profiles_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_shipped_profiles_cover_the_kinds_of_machine() -> None:
    assert {"default", "cpu-laptop", "apple-silicon", "nvidia-gpu"} <= set(profile_files())
    for name in profile_files():
        assert load_profile(name).stages[0].strategy == "direct"


def test_a_user_profile_overrides_a_shipped_one_by_name() -> None:
    shipped = Path(profile_files()["default"]).read_text()
    write_user_profile("default", shipped.replace("temperature: 0.7", "temperature: 0.3"))
    assert load_profile("default").temperature == 0.3
    assert load_profile().source.startswith(str(paths.config_dir()))


def test_a_profile_can_be_given_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("stages:\n  - {from_budget: 1, strategy: direct}\n")
    profile = load_profile(str(path))
    assert profile.name == "mine" and profile.unit_tokens == 256


def test_malformed_yaml_names_the_file_and_line() -> None:
    path = write_user_profile("broken", "stages:\n  - from_budget: 1\n   strategy: [direct\n")
    with pytest.raises(ConfigError) as error:
        load_profile("broken")
    assert str(path) in error.value.message and "line" in error.value.message


@pytest.mark.parametrize("text, field", [
    ("stages:\n  - {from_budget: 1, strategy: direct}\ntemprature: 0.5\n", "temprature"),
    ("stages:\n  - {from_budget: 1, strategy: guess}\n", "stages.0.strategy"),
    ("stages:\n  - {from_budget: 1, strategy: direct}\ntemperature: 9\n", "temperature"),
    ("stages:\n  - {from_budget: 3, strategy: cot}\n", "stages"),
    ("stages:\n  - {from_budget: 1, strategy: direct}\nengine: {url: 'localhost:8080'}\n",
     "engine.url"),
    ("stages:\n  - {from_budget: 1, strategy: direct}\ndeepconf_keep: 2\n", "deepconf_keep"),
    ("stages:\n  - {from_budget: 1, strategy: direct}\nvote: {keep: 2}\n", "vote.keep"),
    ("stages:\n  - {from_budget: 1, strategy: direct}\nvote: {rule: usc}\nvote_rule: cisc\n",
     "vote_rule"),
])
def test_invalid_values_name_the_field(text: str, field: str) -> None:
    path = write_user_profile("bad", text)
    with pytest.raises(ConfigError) as error:
        load_profile("bad")
    assert str(path) in error.value.message and f"'{field}'" in error.value.message


def test_a_profiles_vote_reads_the_older_flat_fields_alike() -> None:
    stages = "stages:\n  - {from_budget: 1, strategy: direct}\n"
    nested = write_user_profile("nested", stages + "vote: {rule: cisc, temperature: 0.5}\n")
    flat = write_user_profile("flat", stages + "vote_rule: cisc\ncisc_temperature: 0.5\n")
    assert load_profile(str(nested)).vote == load_profile(str(flat)).vote
    assert load_profile(str(flat)).vote.rule == "cisc"
    # Written back in the flat fields an older think reads (think tune, fitted profiles).
    dumped = load_profile(str(nested)).model_dump()
    assert (dumped["vote_rule"], dumped["cisc_temperature"]) == ("cisc", 0.5)
    assert "vote" not in dumped


def test_unknown_profile_says_where_to_look_or_what_was_meant() -> None:
    with pytest.raises(UsageError) as error:
        load_profile("nope")
    assert "nope" in error.value.message and "think profiles list" in (error.value.hint or "")
    with pytest.raises(UsageError, match="did you mean cpu-laptop"):
        load_profile("cpu-laptp")


def test_registry_has_a_default_and_user_entries_override(tmp_path: Path) -> None:
    registry = load_registry()
    assert registry.default == "gemma3-270m"
    assert registry.models["gemma3-270m"].format == "base"
    gguf = tmp_path / "my-model-instruct.gguf"
    gguf.write_bytes(b"GGUF" + bytes(16))
    paths.config_dir().mkdir(parents=True)
    paths.user_models_file().write_text(
        f"models:\n  mine:\n    path: {gguf}\n    format: chat\n    context: 2048\n")
    spec = resolve("mine")
    assert (spec.path, spec.format, spec.context) == (gguf, "chat", 2048)


def test_unknown_model_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as error:
        resolve("no-such-model")
    assert "think models list" in (error.value.hint or "")
    with pytest.raises(UsageError, match="did you mean gemma3-270m"):
        resolve("gemma3-207m")
    with pytest.raises(UsageError) as error:
        resolve(str(tmp_path / "missing.gguf"))
    assert "not found" in error.value.message


def test_a_models_yaml_entry_carries_its_cards_rules(tmp_path: Path) -> None:
    gguf = tmp_path / "r1.gguf"
    gguf.write_bytes(b"GGUF" + bytes(16))
    paths.config_dir().mkdir(parents=True)
    paths.user_models_file().write_text(
        f"models:\n  r1:\n    path: {gguf}\n    reasoning: {{end: '</thought>', wait: Hmm}}\n"
        "    sampling: {temperature: 0.6, top_k: 20}\n    system_prompt: false\n"
        "    answer_format: boxed\n    template_kwargs: {enable_thinking: true}\n")
    rules = resolve("r1").rules
    assert rules.reasoning is not None and rules.reasoning.end == "</thought>"
    assert rules.reasoning.start == "<think>" and "limited time" in rules.reasoning.stop_message
    assert rules.reasoning.wait == "Hmm"
    # The model's own sampling replaces the profile's field by field; greedy plans stay
    # greedy only for models that do not reason.
    chosen = rules.sampling(temperature=0.0, top_k=40, top_p=0.9)
    assert (chosen.temperature, chosen.top_k, chosen.top_p) == (0.6, 20, 0.9)
    assert not rules.system_prompt and rules.answer_format == "boxed"
    assert dict(rules.template_kwargs) == {"enable_thinking": True}


def test_a_bad_sampling_value_in_models_yaml_names_its_field(tmp_path: Path) -> None:
    paths.config_dir().mkdir(parents=True)
    paths.user_models_file().write_text(
        f"models:\n  r1:\n    path: {tmp_path}/x.gguf\n    sampling: {{top_p: 3}}\n")
    with pytest.raises(ConfigError) as error:
        load_registry()
    assert "top_p" in str(error.value) and "models.yaml" in str(error.value)


def test_a_user_entry_without_a_source_changes_only_its_fields() -> None:
    """A pinned revision (what `models pull` writes) or the user's own sampling keeps the
    rest of the shipped entry; an entry that names a source replaces it whole."""
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    paths.user_models_file().write_text(
        "models:\n"
        "  qwen3-1.7b: {revision: abc123, sampling: {temperature: 0.7}}\n"
        "  qwen3-4b: {path: ./mine.gguf}\n")
    models = load_registry().models
    pinned = models["qwen3-1.7b"]
    assert pinned.revision == "abc123" and pinned.sampling.temperature == 0.7
    assert pinned.repo == "ggml-org/Qwen3-1.7B-GGUF" and pinned.reasoning is not None
    replaced = models["qwen3-4b"]
    assert replaced.path == "./mine.gguf" and replaced.repo is None and replaced.reasoning is None


def test_an_edited_profile_is_read_again_and_a_change_to_what_was_read_is_not_kept() -> None:
    import os

    from think.config.loader import read_yaml

    path = write_user_profile("mine", "temperature: 0.5\n"
                              "stages:\n  - {from_budget: 1, strategy: direct}\n")
    assert load_profile("mine").temperature == 0.5
    path.write_text(path.read_text().replace("0.5", "0.25"))  # another size
    assert load_profile("mine").temperature == 0.25
    # The same size: a person's edit comes later than the last write's clock tick, which a
    # test may share; the file's time says when.
    path.write_text(path.read_text().replace("0.25", "0.75"))
    later = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))
    assert load_profile("mine").temperature == 0.75
    data = read_yaml(path)
    data["temperature"] = 9
    assert read_yaml(path)["temperature"] == 0.75  # a caller's change is its own
