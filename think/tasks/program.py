"""Program-aided answers: the program a completion wrote, made to leave its value in `answer`,
and the answer read back from what the sandboxed run printed.

The model's code is only parsed here (never run): `as_program` turns a last expression (or a
last `print(x)`) into `answer = ...`, so a one-line expression like `4 * 8` and a short
program that prints its result both end with a value to read. Running it is the sandbox's
job (strategies/program).
"""

from __future__ import annotations

import ast
import textwrap

from think.tasks.extract import FINAL_CUE, extract, normalize_number

# The line the tests' side of a run prints the value on; the last one in the output counts.
VALUE_MARK = "\x00think-value:"
READ_VALUE = f"print({VALUE_MARK!r} + str(answer))\n"
# Longer programs are not parsed at all: a parser fed deep nesting can exhaust the stack.
MOST_CHARACTERS = 4000
# Nor rewritten when nested deeper: ast.unparse recurses once a level or more, and a
# 2,000-term `1+1+...` or `a.a.a...` fits in MOST_CHARACTERS.
MOST_DEPTH = 100


def as_program(code: str | None) -> str | None:
    """The code with its value left in `answer`; None when it does not parse, nests deeper
    than MOST_DEPTH or leaves no value (no `answer`, no last expression)."""
    if not code or len(code) > MOST_CHARACTERS:
        return None
    code = textwrap.dedent(code).strip()  # a base model's line starts with a space
    try:
        tree = ast.parse(code)
        if not tree.body or nesting(tree) > MOST_DEPTH:
            return None
        return with_answer(tree, code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def nesting(tree: ast.AST) -> int:
    """How deep the tree nests, counted without recursion (deep nesting is the danger)."""
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MOST_DEPTH:  # deeper than that is too deep: no need to look further
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def with_answer(tree: ast.Module, code: str) -> str | None:
    """The parsed code with its last expression assigned to `answer`, or the code itself
    where it assigns `answer`; None where it does neither."""
    last = tree.body[-1]
    if isinstance(last, ast.Expr):
        value = last.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
                and value.func.id == "print" and len(value.args) == 1 and not value.keywords:
            value = value.args[0]  # `print(total)` ends many programs: its value is the answer
        tree.body[-1] = ast.Assign(targets=[ast.Name("answer", ast.Store())], value=value)
        ast.fix_missing_locations(tree)
        return ast.unparse(tree)
    assigns = any(isinstance(target, ast.Name) and target.id == "answer"
                  for node in ast.walk(tree) if isinstance(node, ast.Assign | ast.AnnAssign)
                  for target in (node.targets if isinstance(node, ast.Assign) else [node.target]))
    return code if assigns else None


def read_value(output: str, task: str) -> str | None:
    """The run's value as the task's normalised answer (what a vote counts), from the last
    value line of its output."""
    lines = [line for line in output.splitlines() if line.startswith(VALUE_MARK)]
    if not lines:
        return None
    value = lines[-1][len(VALUE_MARK):].strip()
    if task == "math":  # one number, or none: a list or a word is not a math answer
        # 12.0 reads as 12 and 2.9999999999999996 as 3 (ten significant digits).
        return normalize_number(value)
    return extract(task, f"{FINAL_CUE} {value}") if value else None
