"""``python -m scheduler``: the same as the ``oneonone`` console script."""

import sys

from scheduler.cli import main

sys.exit(main())
