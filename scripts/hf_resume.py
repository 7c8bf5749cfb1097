"""Does a download resume a partial file, and does it check the hub's SHA-256? Measured for
huggingface_hub's `hf_hub_download` and for think's own pull, against the loopback hub of
the tests (302 to a blob host, X-Linked-Etag, Range).

    python -m scripts.hf_resume --client think      # in think's venv
    python -m scripts.hf_resume --client hf         # in a venv with huggingface_hub

Three cases, each in a fresh cache: a partial blob left by an earlier run
(`blobs/SHA.incomplete`, the first quarter of the file); a connection cut after a quarter of
the file; a hub whose X-Linked-Etag is not the file's SHA-256. For each it prints what the
client asked the blob host for (the Range headers), the bytes the host sent, and the outcome.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.support.hub_server import HubFile, HubServer

REPO, FILE = "org/tiny-GGUF", "tiny-q4.gguf"
DATA = b"GGUF" + os.urandom(4 * 1024 * 1024)
SHA = hashlib.sha256(DATA).hexdigest()


def hf_download() -> Path:
    from huggingface_hub import hf_hub_download

    # It reads its variables once, at import: each case's server and cache are passed in.
    return Path(hf_hub_download(REPO, FILE, endpoint=os.environ["HF_ENDPOINT"],
                                cache_dir=os.path.join(os.environ["HF_HOME"], "hub")))


def think_download() -> Path:
    from think import paths
    from think.models.store import pull

    paths.config_dir().mkdir(parents=True, exist_ok=True)
    paths.user_models_file().write_text(f"models:\n  tiny:\n    repo: {REPO}\n"
                                        f"    file: {FILE}\n    format: chat\n")
    return pull("tiny", lambda done, total: None)[0]


def one_case(name: str, download: Callable[[], Path], prepare: Callable[[HubServer, Path], None],
             wrong_hash: bool = False) -> str:
    with tempfile.TemporaryDirectory() as home:
        server = HubServer()
        server.hub.files[(REPO, FILE)] = HubFile(DATA, sha256="0" * 64 if wrong_hash else "")
        os.environ.update(HF_ENDPOINT=server.url, HF_HOME=f"{home}/hf", HOME=f"{home}/user",
                          THINK_HOME=f"{home}/think", HF_HUB_DISABLE_XET="1",
                          HF_HUB_DISABLE_TELEMETRY="1")
        prepare(server, Path(home, "hf", "hub", "models--org--tiny-GGUF", "blobs"))
        attempts, outcome = 0, ""
        while attempts < 3:  # a client that gives up on a cut is simply asked again
            attempts += 1
            try:
                path = download()
            except Exception as exc:  # noqa: BLE001 - what each client raises is the finding
                outcome = f"{type(exc).__name__}: {str(exc).splitlines()[0][:70]}"
                if wrong_hash:
                    break
                continue
            same = path.read_bytes() == DATA
            outcome = "file complete" if same else "file differs"
            if wrong_hash:
                outcome += ", accepted though the hub's SHA-256 disagrees"
            break
        ranges = [seen.range or "-" for seen in server.hub.blob_requests()]
        server.stop()
    return (f"{name:<28} tries {attempts}  blob GETs {len(ranges)} ranges {ranges}  "
            f"bytes sent {server.hub.sent:,} of {len(DATA):,}  -> {outcome}")


def leave_partial(server: HubServer, blobs: Path) -> None:
    blobs.mkdir(parents=True)
    (blobs / f"{SHA}.incomplete").write_bytes(DATA[:len(DATA) // 4])


def cut_mid_file(server: HubServer, blobs: Path) -> None:
    server.hub.cut_after = len(DATA) // 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", choices=("hf", "think"), required=True)
    args = parser.parse_args()
    download = hf_download if args.client == "hf" else think_download
    if args.client == "hf":
        import huggingface_hub

        print(f"huggingface_hub {huggingface_hub.__version__}")
    print(one_case("partial blob left behind", download, leave_partial))
    print(one_case("connection cut at 1/4", download, cut_mid_file))
    print(one_case("hub SHA-256 is not the file's", download, lambda s, b: None, wrong_hash=True))


if __name__ == "__main__":
    main()
