"""Argument types and the parser class shared by every subcommand: errors are one line, exit code 2."""

from __future__ import annotations

import argparse
import math


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


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit with code 2."""

    def error(self, message: str):
        self.exit(2, f"linclass: error: {message} (see '{self.prog} --help')\n")
