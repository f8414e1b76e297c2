"""python -m linclass.cli ..."""

import sys

from .main import main

sys.exit(main())
