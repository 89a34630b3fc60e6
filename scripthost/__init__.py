"""scripthost: run perf trace scripts over recorded or live kernel events."""

__all__ = ["__version__"]
__version__ = "0.1.0"
