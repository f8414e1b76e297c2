"""Command line: argument parsing and printing only; the work is done by the modules it calls."""

from __future__ import annotations

import signal
import sys

from ..errors import LinclassError
from .parser import build_parser


def _terminate(signum, frame):
    raise KeyboardInterrupt


def _never_fail_printing() -> None:
    """A path that the terminal's encoding cannot show is printed escaped, never as a traceback."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def main(argv: list[str] | None = None) -> int:
    _never_fail_printing()
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
    except OSError as exc:  # an expected OS failure not caught closer to it: still one line
        if args.debug:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        print(f"linclass: error: cannot complete the command:{where}: {exc.strerror or exc}; check the path "
              "and the free space, then try again.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("linclass: interrupted; nothing was written", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)


