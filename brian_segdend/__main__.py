"""``python -m brian_segdend``: see :mod:`brian_segdend.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
