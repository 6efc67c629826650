"""``python -m rdpart``: the ``rdpart`` command (see rdpart.cli)."""

import sys

from rdpart.cli import main

sys.exit(main())
