"""Command line: argument parsing and printing only; the work is done by the modules it calls."""

from __future__ import annotations

import argparse
import math
import signal
import sys
from pathlib import Path

from .errors import LinclassError

DEFAULT_RUN_DIR = "runs/latest"
DEFAULT_REPRODUCE_DIR = "reproduce"


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


def cmd_train(args) -> int:
    from .experiment import RunConfig

    if args.resume:
        return _resume_train(args)
    config = RunConfig(model=args.model, digits=tuple(args.digits), learning_rate=args.lr,
                       batch_size=args.batch_size, epochs=args.epochs, l2=args.l2,
                       penalize_bias=args.penalize_bias, shuffle=args.shuffle, patience=args.patience,
                       seed=args.seed, dtype=args.dtype).resolved()
    return _train_into(args, config, resume_from=None)


def _resume_train(args) -> int:
    from .runs import load_checkpoint

    config, checkpoint = load_checkpoint(args.out)
    print(f"resuming {args.out} at step {checkpoint['meta']['global_step']} with its saved settings "
          "(other training options are ignored)", file=sys.stderr)
    return _train_into(args, config, resume_from=checkpoint, replace=True)


def _train_into(args, config, resume_from, replace: bool = False) -> int:
    from .callbacks import ProgressBar
    from .data import load_mnist
    from .experiment import make_split, summarize, train
    from .runs import atomic_dir, save_checkpoint, save_run
    from .checkpoint import stop_on_signals

    out = Path(args.out)
    # From here on a first Ctrl-C or SIGTERM lets the current step finish and saves a checkpoint.
    with atomic_dir(out, force=args.force or replace) as folder, stop_on_signals() as stop_event:
        split = make_split(config, load_mnist(args.data_dir))
        print(f"{config.model}: {split.description}; {len(split.y_train)} training, "
              f"{len(split.y_val)} validation images", flush=True)
        callbacks = [ProgressBar(config.model)] if args.progress else []
        model = train(config, split, callbacks, resume_from=resume_from, stop_event=stop_event)
        if model.interrupted_:
            resume = f"linclass train --resume --out {out}"
            save_checkpoint(folder, config, model.checkpoint_, resume)
        else:
            summary = summarize(model)
            summary["wall_seconds"] = model.wall_seconds_
            save_run(folder, config, model, summary)
    if model.interrupted_:
        print(f"linclass: interrupted after step {model.n_steps_ - 1}; the run is saved incomplete in {out}/. "
              f"Resume with: {resume}", file=sys.stderr)
        return 130
    _print_run(config, summary)
    print(f"run written to {out}/")
    return 0


def _print_run(config, summary: dict) -> None:
    stop = summary["early_stop"]
    if config.patience is None:
        print(f"trained {summary['steps']} steps without early stopping; the final weights are kept")
    elif stop is None:
        print(f"trained {summary['steps']} steps; early stopping did not fire")
    else:
        print(f"early stopping fired at step {stop['step']} (epoch {stop['epoch']}, 0-based)")
    if "wall_seconds" in summary:
        print(f"wall time {summary['wall_seconds']:.2f} s")
    rows = [("final (kept)", "at_stop")] if config.patience is None else [
        ("at stop", "at_stop"), (f"best (step {summary['best_step']}, kept)", "best")]
    for label, key in rows:
        metrics = summary[key]
        if metrics:
            print(f"{label:>24}: " + ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))
    print(f"weight norm ||w|| = {summary['weight_norm']:.4f}, ||w||^2 = {summary['weight_norm_squared']:.4f}")


def cmd_evaluate(args) -> int:
    from .data import load_mnist
    from .experiment import make_split
    from .runs import load_run

    config, model, metrics = load_run(args.run_dir)
    split = make_split(config, load_mnist(args.data_dir))
    logits = model.decision_function(split.X_val)
    print(f"{config.model} run {args.run_dir}: {split.description}")
    print(f"validation loss {model.cross_entropy(logits, split.y_val):.6f}, "
          f"validation accuracy {model.score(split.X_val, split.y_val):.6f} on {len(split.y_val)} images")
    recorded = (metrics.get("best") or {}).get("val_accuracy")
    if recorded is not None:
        print(f"recorded at training time: validation accuracy {recorded:.6f}")
    return 0


def cmd_reproduce(args) -> int:
    from .report import reproduce
    from .reproduce import parse_tasks

    summary = reproduce(args.out, tasks=parse_tasks(args.only), seed=args.seed, dtype=args.dtype, jobs=args.jobs,
                        force=args.force, data_dir=args.data_dir, progress=args.progress,
                        max_epochs=args.max_epochs_override, resume=args.resume)
    if summary is None:
        print(f"linclass: interrupted; the finished runs are saved in {args.out}/ (marked incomplete). "
              f"Resume with: linclass reproduce --resume --out {args.out}", file=sys.stderr)
        return 130
    print(f"report written to {args.out}/report.md and {args.out}/report.html "
          f"({summary['environment']['wall_seconds']:.1f} s); every number is in {args.out}/summary.json")
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
