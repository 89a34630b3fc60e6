"""Entry point for ``python -m scripthost``."""

import sys

from scripthost.cli import main

sys.exit(main())
