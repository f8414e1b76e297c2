"""Argument types and the parser class shared by every subcommand: errors are one line, exit code 2."""

from __future__ import annotations

import argparse
import math

from ..preprocess import check_train_size


def _int_in(low: int, high: float, what: str):
    """An argparse type: an integer in [low, high], described as `what` in errors."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    return parse


_positive_int = _int_in(1, math.inf, "an integer >= 1")
_non_negative_int = _int_in(0, math.inf, "an integer >= 0")
_digit = _int_in(0, 9, "a digit 0-9")


def _finite_float(minimum: float, inclusive: bool):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive):
            relation = ">=" if inclusive else ">"
            raise argparse.ArgumentTypeError(f"expected a finite number {relation} {minimum:g}, got {text!r}")
        return value
    return parse


def add_data_options(parser, what: str = "train on") -> None:
    """--dataset and --data-dir, shared by train, evaluate and reproduce."""
    parser.add_argument("--dataset", choices=("mnist", "fashion-mnist"), default="mnist",
                        help=f"the dataset to {what}: MNIST digits or Fashion-MNIST clothing (default: mnist)")
    parser.add_argument("--data-dir", help="folder with the dataset's four files (default: $LINCLASS_DATA_DIR for "
                        "MNIST, $LINCLASS_FASHION_MNIST_DIR for Fashion-MNIST, else the user cache, else a "
                        "verified download)")


def add_protocol_options(parser) -> None:
    """--protocol and --train-size, shared by train and reproduce."""
    parser.add_argument("--protocol", choices=("assignment", "holdout"), default="assignment",
                        help="assignment: validate on the first 10,000 test images, as the course report does; "
                        "holdout: validate on training images 50,000-59,999 and evaluate the kept weights once "
                        "on the 10,000 test images after training (default: assignment)")
    parser.add_argument("--train-size", type=_positive_int, default=20000, metavar="N",
                        help="train on the first N training images (default: 20000; at most 60000, or 50000 "
                        "under --protocol holdout)")


# What a resumed command still takes from its command line; every other option keeps its saved value.
KEPT_ON_RESUME = {"--resume", "--out", "--data-dir", "--no-progress", "--progress", "--jobs", "--debug"}


def ignored_on_resume(args) -> str:
    """' (ignored: --lr, --dataset)' naming the options given with --resume that the saved settings override."""
    ignored = sorted(set(getattr(args, "given", ())) - KEPT_ON_RESUME)
    return f"; ignored: {', '.join(ignored)}" if ignored else ""


def check_protocol_options(args) -> None:
    """--train-size within its protocol's limit, named as the option (RunConfig checks it again, as train_size)."""
    check_train_size(args.train_size, args.protocol, name="--train-size")


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit with code 2."""

    def error(self, message: str, prog: str | None = None):
        self.exit(2, f"linclass: error: {message} (see '{prog or self.prog} --help')\n")

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an option the subcommand does not know points to that subcommand's help."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            self.error(f"unrecognized arguments: {' '.join(extras)}", f"{self.prog} {command}" if command else None)
        return parsed
