"""`linclass sweep`: a grid of learning rates x λ x seeds, trained in lock-step groups, into one folder."""

from __future__ import annotations

import argparse
import sys

from .._io import read_incomplete_settings, resume_command
from ..errors import LinclassError
from ..runs import RunConfig
from ..sweeps import Grid, sweep
from .args import (_digit, _finite_float, _positive_int, add_data_options, add_protocol_options, check_protocol_options,
                   ignored_on_resume)
from .train import _classes

DEFAULT_SWEEP_DIR = "sweeps/latest"
DEFAULT_LRS, DEFAULT_L2S, DEFAULT_SEEDS = "0.001,0.01,0.1", "0,0.001,0.01,0.1,1", "0"


def _number_list(kind: type):
    """An argparse type: comma-separated numbers ('0.01,0.1') -> a list; the grid checks the values."""
    what = "integers" if kind is int else "numbers"

    def parse(text: str) -> list:
        items = [item.strip() for item in text.split(",")]
        if items == [""]:
            return []  # refused by the grid check: an empty list
        values = []
        for item in items:
            try:
                values.append(kind(item))
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected comma-separated {what}, got {item!r} in {text!r}") from None
        return values
    return parse


def add_sweep_parser(commands) -> None:
    """Add `linclass sweep` and its options to the subcommands."""
    sweep_parser = commands.add_parser(
        "sweep", help="train a grid of learning rates x λ x seeds in lock-step and compare them",
        description="Train one run per learning rate x λ x seed (runs that share a batch order train in "
        "lock-step, each bit for bit as alone) and write sweep.json, sweep.csv, a heat map of validation "
        "accuracy (figures/) and every run's folder (runs/<name>/) into --out. A run whose training diverges "
        "is dropped from its group and recorded as diverged (the others train on); the best cell ignores "
        "cells with a diverged run, and if every cell diverged the command fails and writes nothing. Unset "
        "options take the course report's defaults for the model.")
    add = sweep_parser.add_argument
    add("--model", choices=("logistic", "softmax"), default="softmax",
        help="logistic: two classes, target 1 for the first; softmax: all ten classes (default: softmax)")
    pair = sweep_parser.add_mutually_exclusive_group()
    pair.add_argument("--classes", nargs=2, metavar=("POSITIVE", "NEGATIVE"),
                      help="the two classes of the logistic model, as numbers 0-9 or names (default: 2 3 on MNIST, "
                      "Shirt T-shirt/top on Fashion-MNIST); logistic only")
    pair.add_argument("--digits", nargs=2, type=_digit, metavar=("POSITIVE", "NEGATIVE"),
                      help="MNIST's name for --classes (default: 2 3)")
    add("--lr", type=_number_list(float), default=_number_list(float)(DEFAULT_LRS), metavar="LIST",
        help=f"comma-separated learning rates, each > 0 (default: {DEFAULT_LRS})")
    add("--l2", type=_number_list(float), default=_number_list(float)(DEFAULT_L2S), metavar="LIST",
        help=f"comma-separated L2 strengths λ >= 0 in J = C + λ·sum(w^2) (default: {DEFAULT_L2S})")
    add("--seeds", type=_number_list(int), default=_number_list(int)(DEFAULT_SEEDS), metavar="LIST",
        help=f"comma-separated seeds of the shuffling, one run each per cell (default: {DEFAULT_SEEDS})")
    add_data_options(sweep_parser)
    add_protocol_options(sweep_parser)
    add("--epochs", type=_positive_int, help="maximum number of epochs (default: 500 logistic, 50 softmax)")
    add("--batch-size", type=_positive_int, help="mini-batch size (default: 128)")
    add("--no-penalize-bias", dest="penalize_bias", action="store_false",
        help="leave the bias row out of the L2 penalty (default: the bias is penalised)")
    add("--shuffle", action=argparse.BooleanOptionalAction, default=None,
        help="reshuffle the training set before every epoch (default: no for logistic, yes for softmax)")
    stopping = sweep_parser.add_mutually_exclusive_group()
    stopping.add_argument("--patience", type=_positive_int, default=10,
                          help="stop after this many validations without a new best validation loss (default: 10)")
    stopping.add_argument("--no-early-stopping", dest="patience", action="store_const", const=None,
                          help="train all epochs and keep the final weights (default: early stopping on)")
    add("--early-stopping-baseline", type=_finite_float(0.0, inclusive=True), metavar="LOSS",
        help="a validation only counts as an improvement below this loss too; the original assignment code used "
        "1.0 (default: none, any first validation is an improvement)")
    add("--no-restore-best-weights", dest="restore_best_weights", action="store_false",
        help="keep the weights at the stop, as the original code did (default: restore the weights of the lowest "
        "validation loss)")
    add("--dtype", choices=("float64", "float32"), default="float64",
        help="floating-point type of the features and weights (default: float64)")
    add("--out", default=DEFAULT_SWEEP_DIR, help=f"folder to write (default: {DEFAULT_SWEEP_DIR}); refused if it "
        "exists, see --force")
    add("--force", action="store_true", help="replace --out if it exists (default: refuse)")
    add("--resume", action="store_true",
        help="finish the interrupted sweep in --out with the settings it started with (other options but "
        "--jobs, --data-dir and --no-progress are ignored)")
    add("--jobs", type=_positive_int, default=1,
        help="run this many lock-step groups at once in separate processes (default: 1, at most one per CPU "
        "core); the results do not depend on it")
    add("--no-progress", dest="progress", action="store_false",
        help="print no progress lines (default: progress lines on stderr)")
    sweep_parser.set_defaults(run=cmd_sweep)


def _base_config(args) -> RunConfig:
    """The settings every run of the sweep shares; the grid sets learning_rate, l2_strength and seed."""
    return RunConfig(model=args.model, dataset=args.dataset, classes=_classes(args), batch_size=args.batch_size,
                     max_epochs=args.epochs, penalize_bias=args.penalize_bias, shuffle=args.shuffle,
                     patience=args.patience, early_stopping_baseline=args.early_stopping_baseline,
                     restore_best_weights=args.restore_best_weights, dtype=args.dtype, protocol=args.protocol,
                     train_size=args.train_size)


def cmd_sweep(args) -> int:
    if args.resume:
        read_incomplete_settings(args.out, "sweep")  # nothing to resume: one line, before anything is printed
        print(f"resuming the sweep in {args.out} with its saved settings{ignored_on_resume(args)}", file=sys.stderr)
    elif args.patience is None and args.early_stopping_baseline is not None:
        raise LinclassError("--early-stopping-baseline needs early stopping; drop it or --no-early-stopping.")
    else:
        check_protocol_options(args)
    grid, base = Grid(tuple(args.lr), tuple(args.l2), tuple(args.seeds)), _base_config(args)
    if not args.resume and len(set(grid.seeds)) > 1 and not base.resolved().shuffle:
        print(f"note: these runs are not shuffled (--shuffle shuffles them), and as their weights start at zero a "
              f"seed then changes nothing: the {len(grid.seeds)} seeds train identical runs", file=sys.stderr)
    summary = sweep(args.out, base, grid, jobs=args.jobs, force=args.force, data_dir=args.data_dir,
                    progress=args.progress, resume=args.resume)
    if summary is None:
        print(f"linclass: interrupted; the finished runs are saved in {args.out}/ (marked incomplete). "
              f"Resume with: {resume_command('sweep', args.out, args.jobs, args.data_dir)}", file=sys.stderr)
        return 130
    print(f"{len(summary['runs'])} runs written to {args.out}/ in {summary['wall_seconds']:.1f} s: sweep.json, "
          f"sweep.csv, {', '.join(summary['figures'])} (and .svg), runs/<name>/")
    if summary["diverged"]:
        print(diverged_line(summary))
    print(best_line(summary))
    return 0


def diverged_line(summary: dict) -> str:
    """The runs whose training diverged: how many, the first few with their step, and that the best ignores them."""
    diverged, shown = summary["diverged"], 4
    names = "; ".join(f"lr {d['learning_rate']:g}, λ {d['l2_strength']:g}, seed {d['seed']} at step {d['step']}"
                      for d in diverged[:shown])
    more = f"; and {len(diverged) - shown} more" if len(diverged) > shown else ""
    return (f"diverged: {len(diverged)} of {len(summary['runs'])} runs ({names}{more}); their cells are marked "
            "diverged and left out of the best (sweep.json \"diverged\" says where and why)")


def best_line(summary: dict) -> str:
    """The printed best cell: its settings, mean validation accuracy (and spread), and test accuracy if held out."""
    best, n = summary["best"], len(summary["best"]["seeds"])
    seeds = f"mean of {n} seeds, spread {best['val_accuracy_spread']:.4f}" if n > 1 else f"seed {best['seeds'][0]}"
    line = (f"best: lr {best['learning_rate']:g}, λ {best['l2_strength']:g}: validation accuracy "
            f"{best['val_accuracy_mean']:.4f} ({seeds}), validation loss {best['val_loss_mean']:.4f}, "
            f"{best['steps_mean']:.0f} steps")
    if best["test_accuracy_mean"] is not None:
        return line + f"; held-out test accuracy {best['test_accuracy_mean']:.4f}, loss {best['test_loss_mean']:.4f}"
    return line + ("\nnote: no test set was held out, so this choice is fitted to the validation images "
                   "(under --protocol assignment they are the test set); --protocol holdout keeps one out")
