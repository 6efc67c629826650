"""``python -m rdpart.cli``: the ``rdpart`` command, as ``python -m rdpart``."""

import sys

from rdpart.cli import main

sys.exit(main())
