"""Library errors are typed and worded where they are shown: the Python API names its own
parameters and engine settings; the command line names flags and profile fields."""

from __future__ import annotations

import pytest
from support.errors import one_error_line

from think import api
from think.cli.wording import one_line
from think.engine.base import SampleRequest
from think.engine.llama.batch_shape import fit_batch
from think.errors import DoesNotFit, UsageError

Q = "What is 2+2?"


def test_a_bad_time_limit_names_the_parameter_in_python_and_the_flag_on_the_cli(
        run_cli) -> None:
    with pytest.raises(UsageError) as refused:
        api.prepare_run(Q, budget=4, max_seconds=0)
    assert str(refused.value) == "max_seconds 0 is not a positive time (give a number of " \
                                 "seconds above 0)"
    run = run_cli("solve", Q, "--max-seconds", "0")
    assert run.code == 2
    assert one_error_line(run.stderr) == ("Error: --max-seconds 0 is not a positive time "
                                          "(give a number of seconds above 0)")


def test_tests_for_a_math_question_name_task_and_tests_each_way(run_cli, tmp_path) -> None:
    with pytest.raises(UsageError) as refused:
        api.prepare_run(Q, budget=4, task="math", tests="assert True")
    assert "pass task code, or leave out tests" in str(refused.value)
    assert "--" not in str(refused.value)
    tests = tmp_path / "tests.py"
    tests.write_text("assert True\n")
    run = run_cli("solve", Q, "--task", "math", "--tests", str(tests), "-b", "4")
    assert "pass --task code, or leave out --tests" in one_error_line(run.stderr)


def test_an_engine_that_cannot_hold_the_prompt_says_so_and_the_cli_names_the_profile_field(
        ) -> None:
    request = SampleRequest(prompt="x", n=4, max_tokens=200, answer_cue="Final answer:")
    with pytest.raises(DoesNotFit) as refused:
        fit_batch(request, prompt=100, cue=5, context=4096, max_cells=256, batch_width=4)
    assert refused.value.limit == "cells" and "load.n_ctx" not in str(refused.value)
    assert "256 KV cells cannot hold" in refused.value.message
    assert one_line(refused.value).endswith(
        "(raise load.n_ctx in the profile or lower the budget)")
    with pytest.raises(DoesNotFit) as too_long:
        fit_batch(request, prompt=4000, cue=5, context=4096, max_cells=65536, batch_width=4)
    assert too_long.value.limit == "context"
    assert one_line(too_long.value).endswith("(shorten the question or lower the budget)")
