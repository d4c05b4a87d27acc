"""``python -m brian_segdend.studies.fig10``: the same as ``python -m brian_segdend fig10``."""

import sys

from .cli import main

sys.exit(main())
