"""python -m benchmarks [options]: see bench.py."""

import sys

from .bench import main

sys.exit(main())
