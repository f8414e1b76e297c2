"""The argument parser: the global options, then each subcommand's own (defined in its module)."""

from __future__ import annotations

import argparse

from .._version import __version__
from .args import OneLineParser
from .evaluate import add_evaluate_parser
from .export import add_export_parser
from .predict import add_predict_parser
from .reproduce import add_reproduce_parser
from .sweep import add_sweep_parser
from .train import add_train_parser

# Each subcommand's module adds its parser, whose defaults carry run=<the function that runs it>.
SUBCOMMANDS = (add_train_parser, add_evaluate_parser, add_predict_parser, add_export_parser, add_reproduce_parser,
               add_sweep_parser)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="linclass", description="Logistic and softmax regression on MNIST, from scratch in NumPy.")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    parser.add_argument("--version", action="version", version=f"linclass {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for add_parser in SUBCOMMANDS:
        add_parser(commands)
    return parser
