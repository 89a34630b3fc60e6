"""The C extension of the engine, and the bash completion script generated from the option
table (installed as share/bash-completion/completions/scripthost); everything else is in
pyproject.toml."""

import os
import sys

from setuptools import Extension, setup

CORE = "scripthost/engine/csrc/"
COMPLETION = "build/completion/scripthost"


def _write_completion() -> str:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from scripthost.cli import bash_completion
    os.makedirs(os.path.dirname(COMPLETION), exist_ok=True)
    with open(COMPLETION, "w") as f:
        f.write(bash_completion())
    return COMPLETION


setup(data_files=[("share/bash-completion/completions", [_write_completion()])], ext_modules=[Extension(
    "scripthost.engine._core",
    sources=[CORE + f for f in ("module.c", "frame.c", "filter.c", "order.c", "idmap.c", "handlers.c", "batch.c",
                                "frames.c", "lines.c", "symcache.c", "sample_dicts.c", "buffers.c")],
    depends=[CORE + f for f in ("core.h", "framer.h", "handlers.h", "batch.h", "frames.h", "lines.h", "symcache.h", "sample_dicts.h")],
    extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Wno-unused-parameter"],
)])
