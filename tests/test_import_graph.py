"""The shape of think's imports, read from the source (scripts/import_graph.py): no import
cycle among its modules, and no arrow from a core room up into cli, bench, ui, tune or the
fit. Every import counts: module level, inside functions and under TYPE_CHECKING."""

from __future__ import annotations

from scripts.import_graph import back_up, circles, figures, module_graph, room_graph


def test_no_module_of_think_is_in_an_import_cycle() -> None:
    assert circles(module_graph()) == []


def test_no_core_room_imports_cli_bench_ui_or_the_fit() -> None:
    assert back_up(room_graph(module_graph())) == []


def test_the_graph_sees_function_level_and_type_checking_imports() -> None:
    graph = module_graph()
    # think.solve imports the api inside the function, to keep `think --help` fast.
    assert "think.api" in graph["think"]
    assert figures()["rooms"] > 10


def test_the_configuration_reads_no_strategy() -> None:
    graph = module_graph()
    config = {m for m in graph if m.startswith("think.config")}
    assert not {t for m in config for t in graph[m] if t.startswith("think.strategies")}
