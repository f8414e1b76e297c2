"""Command line: argument parsing and printing only; the work is done by the modules it calls."""

from __future__ import annotations

import signal
import sys

from ..errors import LinclassError
from .evaluate import cmd_evaluate
from .parser import build_parser
from .reproduce import cmd_reproduce
from .train import cmd_train

COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "reproduce": cmd_reproduce}


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    previous_sigterm = signal.signal(signal.SIGTERM, _terminate)  # SIGTERM cleans up like Ctrl-C
    try:
        return COMMANDS[args.command](args)
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


