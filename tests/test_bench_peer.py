"""`think bench speed --llama-server` and `think bench memory`, run for real but small: the peer
rows carry positive figures for the same token counts on both sides, and the memory report has
its sizes and its growth check. No timing is asserted: the figures are for people to read."""

from __future__ import annotations

import json

import pytest
from support.llama_server import llama_server_binary

pytestmark = pytest.mark.real


def test_bench_speed_times_llama_server_beside_think(run_cli) -> None:
    run = run_cli("bench", "speed", "--llama-server", str(llama_server_binary()),
                  "--widths", "1,4", "--tokens", "16", "--repeats", "1", "--solve-budget", "2",
                  "--batch-questions", "6", "--batch-budgets", "1", "--batch-parallel", "3",
                  "--json")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert [row["n"] for row in data["peer"]] == [row["n"] for row in data["rows"]] == [1, 4]
    for think_row, peer in zip(data["rows"], data["peer"], strict=True):
        # ignore_eos on both sides: every sample is exactly --tokens long.
        assert think_row["batched_tokens"] == peer["n_request_tokens"] \
            == peer["parallel_tokens"] == 16 * peer["n"]
        assert peer["n_request_tps"] > 0 and peer["parallel_tps"] > 0
    engines = [solve["engine"] for solve in data["solves"]]
    assert engines == ["think local", "think --engine llama-server"]
    assert all(s["seconds"] > 0 and s["generated_tokens"] > 0 for s in data["solves"])
    # The file of questions through the server's slots, beside think's own two columns.
    [batch] = data["batch"]
    assert (batch["budget"], batch["questions"], batch["parallel"], batch["errors"]) == (1, 6, 3, 0)
    assert batch["alone_qps"] > 0 and batch["batched_qps"] > 0 and batch["server_qps"] > 0


def test_bench_speed_table_has_the_peer_lines_and_no_server_without_one(run_cli,
                                                                         monkeypatch) -> None:
    monkeypatch.setenv("THINK_LLAMA_SERVER", str(llama_server_binary()))
    run = run_cli("bench", "speed", "--widths", "2", "--tokens", "4", "--repeats", "1",
                  "--solve-budget", "0", "--batch-questions", "0")
    assert run.code == 0, run.stderr
    assert "batch of" not in run.stdout  # --batch-questions 0: no batch row
    assert "server n=N" in run.stdout and "think/parallel" in run.stdout
    assert "solve" not in run.stdout.split("llama-server, same prompt")[1]


def test_bench_speed_names_a_missing_server_in_one_line(run_cli, tmp_path) -> None:
    run = run_cli("bench", "speed", "--llama-server", str(tmp_path / "nothing"))
    assert run.code != 0
    assert "is not an executable file" in run.stderr and "Traceback" not in run.stderr


def test_bench_memory_reports_sizes_per_width_and_growth(run_cli) -> None:
    run = run_cli("bench", "memory", "--widths", "1,2", "--tokens", "8", "--budget", "2",
                  "--solves", "3", "--json")
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert [row["n"] for row in data["widths"]] == [1, 2]
    for row in data["widths"]:
        assert row["generated_tokens"] == 8 * row["n"]
        assert row["peak_rss_kib"] >= row["loaded_rss_kib"] > 0
        assert row["kv_cells"] > 0 and row["kv_bytes"] > 0
    growth = data["growth"]
    assert growth["solves"] == 3 and len(growth["rss_kib"]) == 3
    assert all(size > 0 for size in growth["rss_kib"])
