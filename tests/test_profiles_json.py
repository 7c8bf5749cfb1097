"""`think profiles list --json` and `think profiles show --json`: what scripts read."""

from __future__ import annotations

import json

import yaml

from think import paths


def test_list_json_names_source_description_and_the_active_one(run_cli, monkeypatch) -> None:
    run = run_cli("profiles", "list", "--json")
    assert run.code == 0
    listed = json.loads(run.stdout)
    assert all(set(row) == {"name", "source", "description", "active"} for row in listed)
    by_name = {row["name"]: row for row in listed}
    assert {"default", "reasoning", "cpu-laptop"} <= set(by_name)
    assert [row["name"] for row in listed if row["active"]] == ["default"]
    assert by_name["reasoning"]["source"].endswith("reasoning.yaml")
    shipped = yaml.safe_load(open(by_name["reasoning"]["source"], encoding="utf-8"))
    assert by_name["reasoning"]["description"] == shipped["description"]
    monkeypatch.setenv("THINK_PROFILE", "reasoning")
    listed = json.loads(run_cli("profiles", "list", "--json").stdout)
    assert [row["name"] for row in listed if row["active"]] == ["reasoning"]


def test_list_json_shows_a_user_profile_over_the_shipped_one(run_cli) -> None:
    assert run_cli("profiles", "new", "default").code == 0  # a user copy of default
    listed = {row["name"]: row for row in json.loads(run_cli("profiles", "list", "--json").stdout)}
    assert listed["default"]["source"] == str(paths.user_profiles_dir() / "default.yaml")
    assert listed["default"]["active"] and listed["default"]["description"]


def test_show_json_is_the_validated_profile(run_cli, tmp_path) -> None:
    run = run_cli("profiles", "show", "reasoning", "--json")
    assert run.code == 0
    profile = json.loads(run.stdout)
    assert profile["name"] == "reasoning" and profile["stages"][0]["strategy"] == "direct"
    assert profile["load"]["extra_buffers"] == "auto"  # defaults filled in, not only the file's
    mine = tmp_path / "mine.yaml"
    mine.write_text("stages:\n  - {from_budget: 1, strategy: direct}\ntemperature: 0.3\n")
    shown = json.loads(run_cli("profiles", "show", str(mine), "--json").stdout)
    assert shown["temperature"] == 0.3 and len(shown["stages"]) == 1


def test_show_json_of_a_bad_profile_is_an_error_line(run_cli, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages:\n  - {from_budget: 1, strategy: direct}\ntemperature: 5\n")
    run = run_cli("profiles", "show", str(bad), "--json")
    assert run.code == 1 and run.stdout == "" and "'temperature'" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
