"""The `linclass` command: one module per subcommand, argument types in args.py, the parser in parser.py."""

from .main import main

__all__ = ["main"]
