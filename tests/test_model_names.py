"""Models by the names other tools use, with no models.yaml entry: ORG/REPO, ORG/REPO:QUANT,
hf.co/ORG/REPO:QUANT, ORG/REPO/FILE.gguf and Ollama names, found in a real Hugging Face
cache, LM Studio folder and Ollama store (or pulled from a loopback hub), each a real GGUF
file whose own chat template says whether it is a chat or a base model."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from support.errors import one_error_line
from support.hub_server import HubFile, HubServer
from support.tiny_reasoner import build_tiny_reasoner

from think import paths
from think.errors import ModelError
from think.models.names import HubName, hub_name, pick_file

COMMIT = "c" * 40


@pytest.fixture(scope="module")
def ggufs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real model files: two chat ones (8k context) that differ, and one with no template."""
    folder = tmp_path_factory.mktemp("ggufs")
    return {"chat": build_tiny_reasoner(folder / "a.gguf", context=8192),
            "chat2": build_tiny_reasoner(folder / "b.gguf", seed=1, context=8192),
            "base": build_tiny_reasoner(folder / "c.gguf", chat_template=False)}


@pytest.fixture(autouse=True)
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # closed: no download happens
    return home


def in_hf_cache(repo: str, files: dict[str, Path]) -> Path:
    """The repo's files in the Hugging Face cache (HF_HOME/hub), as huggingface_hub lays
    them out: blobs by hash, snapshot links, refs/main."""
    folder = Path(os.environ["HF_HOME"]) / "hub" / ("models--" + repo.replace("/", "--"))
    for name, source in files.items():
        data = source.read_bytes()
        blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = folder / "snapshots" / COMMIT / name
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, link.parent), link)
    (folder / "refs").mkdir(exist_ok=True)
    (folder / "refs" / "main").write_text(COMMIT)
    return folder / "snapshots" / COMMIT


def in_ollama(name: str, tag: str, source: Path) -> Path:
    store = Path(os.environ["OLLAMA_MODELS"])
    data = source.read_bytes()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blob = store / "blobs" / digest.replace(":", "-")
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    manifest = store / "manifests" / "registry.ollama.ai" / "library" / name / tag
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.model", "digest": digest}]}))
    return blob


def planned(run_cli, model: str) -> dict:
    run = run_cli("solve", "What is 2+2?", "-m", model, "--plan", "--json")
    assert run.code == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("text, read", [
    ("org/Smol-GGUF", HubName("org/Smol-GGUF")),
    ("org/Smol-GGUF:q8_0", HubName("org/Smol-GGUF", quant="Q8_0")),
    ("hf.co/org/Smol-GGUF:Q4_K_M", HubName("org/Smol-GGUF", quant="Q4_K_M")),
    ("https://huggingface.co/org/Smol-GGUF", HubName("org/Smol-GGUF")),
    ("org/Smol-GGUF/sub/smol-Q8_0.gguf", HubName("org/Smol-GGUF", "sub/smol-Q8_0.gguf")),
    ("qwen3:1.7b", None), ("gemma3-270m", None), ("org/../x", None), ("a/b/c.txt", None),
])
def test_the_hub_forms_are_read_as_other_tools_write_them(text: str, read) -> None:
    assert hub_name(text) == read


def test_a_repos_gguf_is_chosen_as_ollama_and_llama_cpp_choose_it() -> None:
    repo = HubName("org/Smol-GGUF")
    assert pick_file(repo, ["README.md", "smol-Q8_0.gguf"]) == "smol-Q8_0.gguf"
    files = ["smol-Q8_0.gguf", "smol-Q4_K_M.gguf", "mmproj-smol-f16.gguf", "smol-q5_k_m.gguf"]
    assert pick_file(repo, files) == "smol-Q4_K_M.gguf"
    assert pick_file(HubName(repo.repo, quant="Q5_K_M"), files) == "smol-q5_k_m.gguf"
    with pytest.raises(ModelError, match="has 2 GGUF files and none is the one to take.*"
                       "org/Smol-GGUF:Q5_K_M, org/Smol-GGUF:Q8_0"):
        pick_file(repo, ["smol-Q8_0.gguf", "smol-Q5_K_M.gguf"])
    with pytest.raises(ModelError, match="has no Q2_K file"):
        pick_file(HubName(repo.repo, quant="Q2_K"), files)
    with pytest.raises(ModelError, match="has no GGUF model file"):
        pick_file(repo, ["model.safetensors"])


def test_a_hub_copy_answers_to_every_name_for_it(run_cli, ggufs) -> None:
    in_hf_cache("org/Smol-GGUF", {"smol-Q4_K_M.gguf": ggufs["chat"],
                                  "smol-Q8_0.gguf": ggufs["chat2"]})
    for name, file in (("org/Smol-GGUF", "smol-Q4_K_M.gguf"),
                       ("org/Smol-GGUF:Q8_0", "smol-Q8_0.gguf"),
                       ("hf.co/org/Smol-GGUF:q8_0", "smol-Q8_0.gguf"),
                       ("org/Smol-GGUF/smol-Q8_0.gguf", "smol-Q8_0.gguf")):
        plan = planned(run_cli, name)
        assert (plan["prompt_format"], plan["chat_template"]) == ("chat", "chatml"), name
        assert plan["context"] == 8192, name  # the file's own, not a default
        path = run_cli("models", "path", name).stdout.strip()
        assert Path(path).name == file, name
    assert not paths.user_models_file().exists()  # no entry was needed or written


def test_several_files_and_no_choice_is_one_line_naming_them(run_cli, ggufs) -> None:
    in_hf_cache("org/Two-GGUF", {"two-Q8_0.gguf": ggufs["chat"],
                                 "two-Q5_K_M.gguf": ggufs["chat2"]})
    run = run_cli("solve", "What is 2+2?", "-m", "org/Two-GGUF", "--plan")
    line = one_error_line(run.stderr)
    assert run.code == 1 and "org/Two-GGUF:Q5_K_M, org/Two-GGUF:Q8_0" in line


def test_lm_studio_and_ollama_copies_answer_to_their_names(run_cli, ggufs, user) -> None:
    studio = user / ".lmstudio" / "models" / "lmstudio-community" / "Smol-GGUF"
    studio.mkdir(parents=True)
    shutil.copy(ggufs["chat"], studio / "Smol-Q4_K_M.gguf")
    in_ollama("smol", "135m", ggufs["chat2"])
    assert planned(run_cli, "lmstudio-community/Smol-GGUF")["prompt_format"] == "chat"
    plan = planned(run_cli, "smol:135m")
    assert plan["model"] == "smol:135m" and plan["prompt_format"] == "chat"


def test_chat_or_base_is_the_files_template_never_its_name(run_cli, ggufs, tmp_path) -> None:
    renamed = tmp_path / "smollm2-135m.gguf"  # a chat model without "instruct" in its name
    shutil.copy(ggufs["chat"], renamed)
    misnamed = tmp_path / "smol-instruct.gguf"  # a base model whose name says instruct
    shutil.copy(ggufs["base"], misnamed)
    assert planned(run_cli, str(renamed))["prompt_format"] == "chat"
    assert planned(run_cli, str(misnamed))["prompt_format"] == "base"
    shown = run_cli("solve", "What is 2+2?", "-m", str(renamed), "--plan").stdout
    assert "chat model (chatml template), context 8,192 tokens" in shown


def test_models_list_shows_every_gguf_and_writes_nothing(run_cli, ggufs, user) -> None:
    in_hf_cache("org/Smol-GGUF", {"smol-Q4_K_M.gguf": ggufs["chat"]})
    studio = user / ".lmstudio" / "models" / "lmstudio-community" / "Base-GGUF"
    studio.mkdir(parents=True)
    shutil.copy(ggufs["base"], studio / "base-F32.gguf")
    in_ollama("smol", "135m", ggufs["chat2"])
    fresh_models = paths.data_dir() / "fresh-models"
    os.environ["THINK_MODELS_DIR"] = str(fresh_models)  # restored by conftest's monkeypatch
    run = run_cli("models", "list", "--json")
    assert run.code == 0, run.stderr
    rows = {row["name"]: row for row in json.loads(run.stdout)}
    found = {name: (row["source"], row["quant"], row["context"], row["format"])
             for name, row in rows.items() if not row["registered"]}
    assert found == {"org/Smol-GGUF:Q4_K_M": ("hf-cache", "F32", 8192, "chat"),
                     "lmstudio-community/Base-GGUF:F32": ("lm-studio", "F32", 4096, "base"),
                     "smol:135m": ("ollama", "F32", 8192, "chat")}
    embedded = rows["gemma3-270m"]
    assert embedded["installed"] and embedded["path"] is None  # not assembled by listing
    assert not fresh_models.exists()
    text = run_cli("models", "list").stdout
    assert "gemma3-270m" in text and "not assembled" in text and "smol:135m" in text
    assert "gemma3-270m: not assembled yet" in run_cli("doctor").stdout  # they agree
    assert not fresh_models.exists()


def test_an_entry_with_only_ollama_or_only_a_repo_is_valid(run_cli, ggufs) -> None:
    in_ollama("smol", "135m", ggufs["chat"])
    in_hf_cache("org/Smol-GGUF", {"smol-Q4_K_M.gguf": ggufs["chat2"]})
    paths.config_dir().mkdir(parents=True, exist_ok=True)
    paths.user_models_file().write_text("models:\n  mine:\n    ollama: 'smol:135m'\n"
                                        "  theirs:\n    repo: org/Smol-GGUF\n")
    for name in ("mine", "theirs"):
        path = run_cli("models", "path", name)
        assert path.code == 0, path.stderr
        assert run_cli("models", "use", name).code == 0


def test_a_pull_by_hub_name_chooses_the_file_and_prints_the_path_alone(
        run_cli, ggufs, tmp_path, monkeypatch) -> None:
    server = HubServer()
    try:
        for file, source in (("tiny-Q4_K_M.gguf", "chat"), ("tiny-Q8_0.gguf", "chat2"),
                             ("README.md", "base")):
            server.hub.files[("org/tiny-GGUF", file)] = HubFile(ggufs[source].read_bytes())
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        pulled = run_cli("models", "pull", "org/tiny-GGUF")
        assert pulled.code == 0, pulled.stderr
        assert pulled.stdout.endswith("/tiny-Q4_K_M.gguf\n") and pulled.stdout.count("\n") == 1
        assert Path(pulled.stdout.strip()).read_bytes() == ggufs["chat"].read_bytes()
        other = run_cli("models", "pull", "hf.co/org/tiny-GGUF:Q8_0")
        assert other.code == 0 and other.stdout.strip().endswith("tiny-Q8_0.gguf")
    finally:
        server.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # found in the cache now, the hub not asked
    assert planned(run_cli, "org/tiny-GGUF:Q8_0")["context"] == 8192


def test_a_name_not_downloaded_says_how_to_pull_it(run_cli) -> None:
    run = run_cli("solve", "What is 2+2?", "-m", "org/Missing-GGUF:Q4_K_M", "--plan")
    assert run.code == 1
    assert "think models pull org/Missing-GGUF:Q4_K_M" in one_error_line(run.stderr)


def test_a_chat_model_by_hub_name_answers_through_llama_cpp(run_cli, ggufs) -> None:
    in_hf_cache("org/Smol-GGUF", {"smol-Q4_K_M.gguf": ggufs["chat"]})
    run = run_cli("solve", "What is 2+2?", "-m", "org/Smol-GGUF", "-b", "1", "--json")
    result = json.loads(run.stdout)
    assert result["model"] == "org/Smol-GGUF" and result["prompt_format"] == "chat"
    assert result["chat_template"] == "chatml" and result["samples"], run.stderr
    assert "model org/Smol-GGUF, chat model (chatml template)" in run.stderr  # the view's head
    from think import history_writer

    history_writer.drain(10)  # the run's row is written after its answer
    shown = run_cli("logs", "show", "1").stdout.splitlines()
    assert [line.split() for line in shown if line.startswith("prompted:")] == [
        ["prompted:", "chat"]], shown


def test_an_ollama_manifest_whose_digest_is_a_path_is_passed_over(run_cli, ggufs,
                                                                  tmp_path) -> None:
    """A hostile manifest's digest `../../x` would name a file out of the store."""
    outside = tmp_path / "outside-GGUF"
    shutil.copy(ggufs["chat"], outside)
    in_ollama("smol", "135m", ggufs["chat"])
    manifest = Path(os.environ["OLLAMA_MODELS"]) / "manifests" / "registry.ollama.ai" / \
        "library" / "smol" / "135m"
    manifest.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image."
                                                "model", "digest": "../../outside-GGUF"}]}))
    run = run_cli("solve", "What is 2+2?", "-m", "smol:135m", "--plan")
    assert run.code == 2 and "unknown model 'smol:135m'" in one_error_line(run.stderr)
    listed = json.loads(run_cli("models", "list", "--json").stdout)
    assert not [row for row in listed if row["name"] == "smol:135m"]


def test_a_model_file_changed_in_place_is_read_again(run_cli, ggufs, tmp_path) -> None:
    model = tmp_path / "model.gguf"
    shutil.copy(ggufs["chat"], model)
    assert planned(run_cli, str(model))["prompt_format"] == "chat"
    shutil.copy(ggufs["base"], model)  # another model under the same name
    assert planned(run_cli, str(model))["prompt_format"] == "base"


def test_a_profile_of_base_model_programs_is_refused_for_a_chat_model(run_cli, ggufs) -> None:
    """The fitted arithmetic profile's 48-token programs (one expression of a base model)
    gave a chat model's fenced programs no room: no answer at all. It is refused first."""
    folder = paths.user_profiles_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sums.yaml").write_text("stages:\n  - {from_budget: 1, strategy: program, "
                                      "max_samples: 1, program_tokens: 48}\n")
    run = run_cli("solve", "What is 2+3?", "-m", str(ggufs["chat"]), "--profile", "sums",
                  "-b", "1", "--plan")
    line = one_error_line(run.stderr)
    assert run.code == 2 and "writes programs of at most 48 tokens" in line
    assert "is a chat model" in line and "think tune" in line
    base = run_cli("solve", "What is 2+3?", "-m", str(ggufs["base"]), "--profile", "sums",
                   "-b", "1", "--plan")
    assert base.code == 0, base.stderr


def test_a_piped_pull_reports_progress_as_plain_lines_on_stderr(run_cli, ggufs,
                                                                monkeypatch) -> None:
    server = HubServer()
    try:
        server.hub.files[("org/tiny-GGUF", "tiny-Q4_K_M.gguf")] = HubFile(
            ggufs["chat"].read_bytes())
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        pulled = run_cli("models", "pull", "org/tiny-GGUF")
    finally:
        server.stop()
    assert pulled.code == 0, pulled.stderr
    lines = pulled.stderr.splitlines()
    progress = [line for line in lines if line.startswith("pull org/tiny-GGUF: ")]
    assert progress and progress[-1].endswith("MB (100%)"), pulled.stderr
    assert lines[-1].startswith("sha256 ") and "\x1b" not in pulled.stderr
