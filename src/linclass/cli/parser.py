"""The argument parser of every subcommand, with their defaults and help."""

from __future__ import annotations

import argparse

from .args import OneLineParser, _digit, _finite_float, _non_negative_int, _positive_int

DEFAULT_RUN_DIR = "runs/latest"
DEFAULT_REPRODUCE_DIR = "reproduce"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="linclass", description="Logistic and softmax regression on MNIST, from scratch in NumPy.")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train one model and write a run folder",
                                description="Train one model; unset options take the report's defaults "
                                "(logistic: lr 0.05, 500 epochs, no shuffle; softmax: lr 0.01, 50 epochs, shuffle).")
    train.add_argument("--model", choices=("logistic", "softmax"), default="softmax")
    train.add_argument("--digits", nargs=2, type=_digit, default=(2, 3), metavar=("POSITIVE", "NEGATIVE"),
                       help="the two digits of the logistic model (target 1, target 0); default 2 3")
    train.add_argument("--epochs", type=_positive_int, help="maximum number of epochs")
    train.add_argument("--lr", type=_finite_float(0.0, inclusive=False), help="learning rate")
    train.add_argument("--batch-size", type=_positive_int, help="mini-batch size (default 128)")
    train.add_argument("--l2", type=_finite_float(0.0, inclusive=True), default=0.0,
                       help="L2 strength lambda in J = C + lambda * sum(w^2) (default 0)")
    train.add_argument("--no-penalize-bias", dest="penalize_bias", action="store_false",
                       help="leave the bias row out of the L2 penalty")
    train.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=None,
                       help="reshuffle the training set before every epoch")
    stopping = train.add_mutually_exclusive_group()
    stopping.add_argument("--patience", type=_positive_int, default=10,
                          help="stop after this many validations without a new best validation loss (default 10)")
    stopping.add_argument("--no-early-stopping", dest="patience", action="store_const", const=None)
    train.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the shuffling generator (default 0)")
    train.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    train.add_argument("--data-dir", help="folder with the four MNIST files (else $LINCLASS_DATA_DIR, "
                       "the user cache, or a download)")
    train.add_argument("--out", default=DEFAULT_RUN_DIR, help=f"run folder to write (default {DEFAULT_RUN_DIR})")
    train.add_argument("--force", action="store_true", help="replace --out if it exists")
    train.add_argument("--resume", action="store_true",
                       help="continue the interrupted run in --out with its saved settings")
    train.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")

    evaluate = commands.add_parser("evaluate", help="reload a run folder and print its validation metrics")
    evaluate.add_argument("run_dir", help="a folder written by 'linclass train'")
    evaluate.add_argument("--data-dir", help="folder with the four MNIST files")

    reproduce = commands.add_parser(
        "reproduce", help="re-run every experiment of the course report and write the report",
        description="Re-run the experiments of TDT4265 assignment 1 (tasks 1-4) and write summary.json, "
        "figures/, runs/, report.md and report.html into --out.")
    reproduce.add_argument("--out", default=DEFAULT_REPRODUCE_DIR,
                           help=f"folder to write (default {DEFAULT_REPRODUCE_DIR}); refused if it exists, see --force")
    reproduce.add_argument("--force", action="store_true", help="replace --out if it exists")
    reproduce.add_argument("--resume", action="store_true",
                           help="finish the interrupted reproduction in --out with the settings it started with")
    reproduce.add_argument("--seed", type=_non_negative_int, default=0,
                           help="seed of the shuffling and of task 1's random weights (default 0)")
    reproduce.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                           help="floating-point type of training (default float64; task 1 always uses float64)")
    reproduce.add_argument("--only", metavar="TASKS",
                           help="comma-separated subset of task1,task2,task3,task4 (default: all)")
    reproduce.add_argument("--jobs", type=_positive_int, default=1,
                           help="run this many experiments at once in separate processes (default 1, at most "
                           "one per CPU core); the results do not depend on it")
    reproduce.add_argument("--data-dir", help="folder with the four MNIST files (else $LINCLASS_DATA_DIR, "
                           "the user cache, or a download)")
    reproduce.add_argument("--no-progress", dest="progress", action="store_false",
                           help="print no progress lines or bars")
    reproduce.add_argument("--max-epochs-override", type=_positive_int, help=argparse.SUPPRESS)  # tests only
    return parser
