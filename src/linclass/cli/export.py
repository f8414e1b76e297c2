"""`linclass export`: write a run's model as one interactive, self-contained HTML page."""

from __future__ import annotations


def add_export_parser(commands) -> None:
    """Add `linclass export` and its options to the subcommands."""
    export = commands.add_parser("export", help="write a run's model as an interactive HTML page")
    export.add_argument("run_dir", help="a folder written by 'linclass train'")
    export.set_defaults(run=cmd_export)


def cmd_export(args) -> int:
    raise NotImplementedError
