"""Generated event handlers: one body of source, compiled twice.

A body is the indented source of a handler for one queue item ``item``.
`compile_handler` compiles it as ``h(item)`` and, as ``h.run(items)``, the
same body inside a loop: the session hands a batch of events of one type to
``run`` (when a handler has it), one Python call instead of one per event.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["compile_handler"]


def compile_handler(body: list[str], env: dict[str, Any], filename: str) -> Callable[[tuple], Any]:
    """``h(item)`` from ``body`` (lines indented by 4 spaces, no ``return``), with ``h.run(items)``."""
    assert not any(line.lstrip().startswith("return") for line in body), "a body may not return"
    src = ["def one(item):", *body, "", "def run(items):", "    for item in items:",
           *("    " + line for line in body)]
    exec(compile("\n".join(src), filename, "exec"), env)
    one = env["one"]
    one.run = env["run"]
    return one
