"""The optional packages the API's tables and the exporter need, each named with the
extra that installs it: a missing one is a one-line error, never an ImportError."""

from __future__ import annotations

import importlib
from types import ModuleType

from scripthost.errors import ScripthostError

__all__ = ["EXTRAS", "require"]

#: module -> the `pip install 'scripthost[EXTRA]'` extra that brings it
EXTRAS = {"pyarrow": "arrow", "numpy": "arrow", "pandas": "arrow", "duckdb": "duckdb",
          "dask": "dask", "distributed": "dask"}


def require(module: str, what: str = "this") -> ModuleType:
    """Import ``module``, or raise the one-line error naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(module, "arrow")
        raise ScripthostError(f"{what} needs {module}, which is not installed: "
                              f"pip install 'scripthost[{extra}]'") from None
