"""`python -m scripthost.perf SCRIPT [ARGS...]`: run SCRIPT with scripthost's `perf`
module (mainline perf's Python session API) importable as ``perf``."""

from __future__ import annotations

import runpy
import sys


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: python -m scripthost.perf SCRIPT [ARGS...]\n")
        return 0 if argv else 129
    import scripthost.perf as compat
    from scripthost.errors import ScripthostError
    sys.modules["perf"] = compat
    sys.argv = list(argv)
    try:
        runpy.run_path(argv[0], run_name="__main__")
    except FileNotFoundError:
        sys.stderr.write(f"scripthost.perf: cannot open {argv[0]}: no such file\n")
        return 2
    except ScripthostError as e:
        sys.stderr.write(f"scripthost: {e}\n")
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
