"""Command line: argument parsing and printing only; the work is done by the modules it calls."""

from __future__ import annotations

import signal
import sys

from ..errors import LinclassError
from .parser import build_parser


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous_sigterm = signal.signal(signal.SIGTERM, _terminate)  # SIGTERM cleans up like Ctrl-C
    try:
        return args.run(args)
    except LinclassError as exc:
        if args.debug:
            raise
        print(f"linclass: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("linclass: interrupted; nothing was written", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)


