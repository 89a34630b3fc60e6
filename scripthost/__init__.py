"""scripthost: run perf trace scripts over recorded or live kernel events, and read
recordings from Python: ``scripthost.open(path)`` (see `scripthost.api`)."""

from typing import Any

__all__ = ["__version__", "open", "Recording", "Event"]
__version__ = "0.1.0"

_API = ("open", "Recording", "Event")


def __getattr__(name: str) -> Any:
    # the API loads the engine: only when asked for, not for every `scripthost` command
    if name in _API:
        from scripthost import api
        return getattr(api, name)
    raise AttributeError(f"module 'scripthost' has no attribute {name!r}")
