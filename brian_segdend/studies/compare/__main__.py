"""``python -m brian_segdend.studies.compare``: the same as ``python -m brian_segdend compare``."""

import sys

from .cli import main

sys.exit(main())
