"""The import graph of think/, read from the source (AST, nothing imported), and its figures.

    python -m scripts.import_graph

Counted: every `import` and `from … import` anywhere in a module — at module level, inside
functions and under `if TYPE_CHECKING:` — since each is a dependency a reader must follow.
Not counted: the implicit import of a package's `__init__` that Python runs before a
submodule (counting it would tie every module to `think/__init__.py`).

A room is one package directly under think/ (cli, engine, …) or one top-level module
(api.py, events.py, …); think/__init__.py and __main__.py are the room `think`. An arrow is a
pair of rooms where a module of the first imports one of the second. Floors are the layers of
the condensed graph (each circle of rooms folded into one): the longest chain of arrows, in
rooms. An arrow runs back up when a core room imports one of the upper rooms (UPPER). A
circle is a strongly connected component of more than one module (file); a circle of
rooms, one of more than one room.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "think"
# The rooms that only wire, present or fit (and the package façade): the core never imports them.
UPPER = ("think", "cli", "bench", "ui", "tune", "fit")


def module_name(path: Path) -> str:
    """The dotted name of a source file of think/."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of think/ by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(tree: ast.AST, name: str, is_package: bool, known: set[str]) -> Iterable[str]:
    """The modules of think that one parsed module imports."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from think.x import y` imports the module think.x.y when there is one.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import think.x.y` names a module or less
                target = target.rpartition(".")[0]
            if target:
                yield target


def module_graph() -> dict[str, set[str]]:
    """Each module of think and the modules of think it imports (itself left out)."""
    found = modules()
    known = set(found)
    graph: dict[str, set[str]] = {}
    for name, path in found.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name] = {t for t in _imported(tree, name, path.name == "__init__.py", known)
                       if t != name}
    return graph


def room(module: str) -> str:
    """The room of a module: its package or top-level module under think."""
    parts = module.split(".")
    return "think" if len(parts) == 1 or parts[1] == "__main__" else parts[1]


def room_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The arrows between rooms."""
    rooms: dict[str, set[str]] = {room(m): set() for m in graph}
    for source, targets in graph.items():
        rooms[room(source)].update(room(t) for t in targets if room(t) != room(source))
    return rooms


def components(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components (Tarjan, iterative so deep graphs do not recurse)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.append(member)
                    if member == node:
                        break
                found.append(sorted(part))
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node."""
    return [part for part in components(graph) if len(part) > 1]


def floors(graph: dict[str, set[str]]) -> int:
    """The layers of the condensed graph: its longest chain of nodes."""
    where = {node: i for i, part in enumerate(components(graph)) for node in part}
    height: dict[int, int] = {}
    # Tarjan emits a component after every component it reaches: heights fill bottom up.
    for i, part in enumerate(components(graph)):
        below = [height[where[t]] for n in part for t in graph[n] if where[t] != i]
        height[i] = 1 + max(below, default=0)
    return max(height.values(), default=0)


def back_up(rooms: dict[str, set[str]]) -> list[tuple[str, str]]:
    """The arrows from a core room into an upper one."""
    return sorted((a, b) for a, targets in rooms.items() for b in targets
                  if a not in UPPER and b in UPPER)


def figures() -> dict[str, int]:
    """Rooms, floors, arrows, arrows running back up and circles of the graph of think/."""
    graph = module_graph()
    rooms = room_graph(graph)
    return {"rooms": len(rooms), "floors": floors(rooms),
            "arrows": sum(len(t) for t in rooms.values()), "back up": len(back_up(rooms)),
            "circles": len(circles(graph)), "circles of rooms": len(circles(rooms)),
            "files in circles": sum(len(c) for c in circles(graph))}


def main() -> int:
    """Print the figures, then each arrow running back up and each circle."""
    for key, value in figures().items():
        print(f"{key:>16}: {value}")
    graph = module_graph()
    for source, target in back_up(room_graph(graph)):
        print(f"back up: {source} -> {target}")
    for part in circles(graph):
        print(f"circle of {len(part)}: {' '.join(part)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
