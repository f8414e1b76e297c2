"""Command line: argument parsing and printing only; the work is done by the modules it calls."""

from __future__ import annotations

import signal
import sys

from .._atomic import PUBLISHED
from .._io import read_status
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


def _what_was_written() -> str:
    """After a Ctrl-C that ended the command: the folder it had already put in place (a run, a reproduction,
    a sweep, complete or resumable), or that nothing was written."""
    if not PUBLISHED:
        return "nothing was written"
    status = read_status(PUBLISHED[-1]) or {}
    state = "complete" if status.get("state") == "complete" else "incomplete: resume it with --resume"
    return f"{PUBLISHED[-1]}/ had been written ({state})"


def main(argv: list[str] | None = None) -> int:
    _never_fail_printing()
    PUBLISHED.clear()
    parser = build_parser()
    args = parser.parse_args(argv)
    args.given = [str(token).split("=")[0] for token in (sys.argv[1:] if argv is None else argv)
                  if str(token).startswith("--")]  # the options typed, for what --resume ignores
    previous_sigterm = signal.signal(signal.SIGTERM, _terminate)  # SIGTERM cleans up like Ctrl-C
    try:
        code = args.run(args)
        if code == 130 and argv is None:  # the program was interrupted and has said so: a further Ctrl-C
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # while it exits must not kill it (exit code -2)
        return code
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
        if argv is None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        print(f"linclass: interrupted; {_what_was_written()}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)


