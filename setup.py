"""The C extension of the engine; everything else is in pyproject.toml."""

from setuptools import Extension, setup

CORE = "scripthost/engine/csrc/"

setup(ext_modules=[Extension(
    "scripthost.engine._core",
    sources=[CORE + f for f in ("module.c", "frame.c", "filter.c", "order.c", "idmap.c", "handlers.c", "batch.c",
                                "frames.c", "lines.c", "symcache.c", "sample_dicts.c", "buffers.c")],
    depends=[CORE + f for f in ("core.h", "framer.h", "handlers.h", "batch.h", "frames.h", "lines.h", "symcache.h", "sample_dicts.h")],
    extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Wno-unused-parameter"],
)])
