"""Generated event handlers: one body of source, compiled twice.

A body is the indented source of a handler for one queue item ``item``.
`handler_pair` compiles it as ``one(item)`` and as ``run(items)``, the same
body inside a loop, for a consumer's `handler` and `run_handler`: a run of
events of one type then costs one Python call, not one per event.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["handler_pair"]


def handler_pair(body: list[str], env: dict[str, Any], filename: str) -> tuple[Callable[[tuple], Any],
                                                                               Callable[[list], Any]]:
    """(one, run) from ``body`` (lines indented by 4 spaces, no ``return``)."""
    assert not any(line.lstrip().startswith("return") for line in body), "a body may not return"
    src = ["def one(item):", *body, "", "def run(items):", "    for item in items:",
           *("    " + line for line in body)]
    exec(compile("\n".join(src), filename, "exec"), env)
    return env["one"], env["run"]
