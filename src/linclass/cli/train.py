"""`linclass train`: train one model into a run folder, or resume an interrupted one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._validation import check_batch_size, check_classes
from ..data import dataset_source
from ..errors import LinclassError
from .._io import resume_command
from ..runs import (RunConfig, held_out_metrics, load_checkpoint, load_data, make_split, output_folder,
                    save_checkpoint, save_run, summarize, train)
from ..runs.checkpoint_file import check_order
from ..training import ProgressBar, stop_on_signals
from .args import (_digit, _finite_float, _non_negative_int, _positive_int, add_data_options, add_protocol_options,
                   check_protocol_options, ignored_on_resume)

DEFAULT_RUN_DIR = "runs/latest"


def add_train_parser(commands) -> None:
    """Add `linclass train` and its options to the subcommands."""
    train = commands.add_parser("train", help="train one model and write a run folder",
                                description="Train one model. Unset options take the course report's defaults "
                                "for the model (logistic: lr 0.05, batch 128, 500 epochs, no shuffling; softmax: "
                                "lr 0.01, batch 128, 50 epochs, shuffling).")
    train.add_argument("--model", choices=("logistic", "softmax"), default="softmax",
                       help="logistic: two classes, target 1 for the first; softmax: all ten classes "
                       "(default: softmax)")
    pair = train.add_mutually_exclusive_group()
    pair.add_argument("--classes", nargs=2, metavar=("POSITIVE", "NEGATIVE"),
                      help="the two classes of the logistic model, target 1 then target 0, as numbers 0-9 or "
                      "names (e.g. Shirt T-shirt/top) (default: 2 3 on MNIST, Shirt T-shirt/top on Fashion-MNIST); "
                      "logistic only")
    pair.add_argument("--digits", nargs=2, type=_digit, metavar=("POSITIVE", "NEGATIVE"),
                      help="MNIST's name for --classes: the two digits of the logistic model (default: 2 3)")
    train.add_argument("--epochs", type=_positive_int,
                       help="maximum number of epochs (default: 500 logistic, 50 softmax)")
    train.add_argument("--lr", type=_finite_float(0.0, inclusive=False),
                       help="learning rate (default: 0.05 logistic, 0.01 softmax)")
    train.add_argument("--batch-size", type=_positive_int, help="mini-batch size (default: 128)")
    train.add_argument("--l2", type=_finite_float(0.0, inclusive=True), default=0.0,
                       help="L2 strength lambda in J = C + lambda * sum(w^2) (default: 0)")
    train.add_argument("--no-penalize-bias", dest="penalize_bias", action="store_false",
                       help="leave the bias row out of the L2 penalty (default: the bias is penalised)")
    train.add_argument("--shuffle", action=argparse.BooleanOptionalAction, default=None,
                       help="reshuffle the training set before every epoch (default: no for logistic, "
                       "yes for softmax)")
    stopping = train.add_mutually_exclusive_group()
    stopping.add_argument("--patience", type=_positive_int, default=10,
                          help="stop after this many validations without a new best validation loss (default: 10)")
    stopping.add_argument("--no-early-stopping", dest="patience", action="store_const", const=None,
                          help="train all epochs and keep the final weights (default: early stopping on)")
    train.add_argument("--early-stopping-baseline", type=_finite_float(0.0, inclusive=True), metavar="LOSS",
                       help="a validation only counts as an improvement below this loss too; the original "
                       "assignment code used 1.0 (default: none, any first validation is an improvement)")
    train.add_argument("--no-restore-best-weights", dest="restore_best_weights", action="store_false",
                       help="keep the weights at the stop, as the original code did (default: restore the weights "
                       "of the lowest validation loss)")
    train.add_argument("--seed", type=_non_negative_int, default=0,
                       help="seed of the shuffling generator (default: 0)")
    train.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                       help="floating-point type of the features and weights (default: float64)")
    add_data_options(train)
    add_protocol_options(train)
    train.add_argument("--out", default=DEFAULT_RUN_DIR, help=f"run folder to write (default: {DEFAULT_RUN_DIR})")
    train.add_argument("--force", action="store_true", help="replace --out if it exists (default: refuse)")
    train.add_argument("--resume", action="store_true",
                       help="continue the interrupted run in --out with its saved settings")
    train.add_argument("--no-progress", dest="progress", action="store_false",
                       help="hide the progress bar (default: shown when stderr is a terminal)")
    train.set_defaults(run=cmd_train)


def cmd_train(args) -> int:
    if args.resume:
        return _resume_train(args)
    check_protocol_options(args)
    config = RunConfig(model=args.model, dataset=args.dataset, classes=_classes(args), learning_rate=args.lr,
                       batch_size=args.batch_size, max_epochs=args.epochs, l2_strength=args.l2,
                       penalize_bias=args.penalize_bias, shuffle=args.shuffle, patience=args.patience,
                       early_stopping_baseline=args.early_stopping_baseline,
                       restore_best_weights=args.restore_best_weights, seed=args.seed, dtype=args.dtype,
                       protocol=args.protocol, train_size=args.train_size)
    if config.patience is None and config.early_stopping_baseline is not None:
        raise LinclassError("--early-stopping-baseline needs early stopping; drop it or --no-early-stopping.")
    config = config.resolved()
    return _train_into(args, config, resume_from=None)


def _classes(args) -> tuple[int, int] | None:
    """The pair of --classes or --digits (MNIST only) as two class numbers; None when neither is given."""
    option, pair = ("--digits", args.digits) if args.digits is not None else ("--classes", args.classes)
    if pair is None:
        return None
    source = dataset_source(args.dataset)
    if args.model != "logistic":
        raise LinclassError(f"{option} chooses the two classes of the logistic model; the {args.model} model "
                            f"uses all ten. Drop {option} or add --model logistic.")
    if option == "--digits" and args.dataset != "mnist":
        raise LinclassError(f"--digits names two MNIST digits; {source.title} has classes, not digits: use "
                            "--classes (numbers 0-9 or names).")
    return check_classes(pair, source.class_names, name=option)


def _resume_train(args) -> int:
    config, checkpoint = load_checkpoint(args.out)
    print(f"resuming {args.out} at step {checkpoint['meta']['global_step']} with its saved settings"
          f"{ignored_on_resume(args)}", file=sys.stderr)
    return _train_into(args, config, resume_from=checkpoint, replace=True)


def _train_into(args, config, resume_from, replace: bool = False) -> int:
    out = Path(args.out)
    # From here on a first Ctrl-C or SIGTERM lets the current step finish and saves a checkpoint. The
    # folder appears only at the end; if --out appeared meanwhile, the run is kept under another name.
    with output_folder(out, force=args.force or replace, data_dir=args.data_dir) as folder, \
            stop_on_signals() as stop_event:
        split = make_split(config, load_data(config, args.data_dir))
        held_out = f", {len(split.y_test)} test images held out until training ends" if split.y_test is not None else ""
        if resume_from is not None:
            check_order(resume_from, len(split.y_train), out / "checkpoint.npz")
        check_batch_size(config.batch_size, len(split.y_train))  # before the header: an error is the only line
        print(f"{config.model}: {split.description}; {len(split.y_train)} training, "
              f"{len(split.y_val)} validation images{held_out}", flush=True)
        callbacks = [ProgressBar(config.model)] if args.progress else []
        model = train(config, split, callbacks, resume_from=resume_from, stop_event=stop_event)
        if model.interrupted_:
            resume = resume_command("run", out, data_dir=args.data_dir)
            save_checkpoint(folder, config, model.checkpoint_, resume)
        else:
            summary = summarize(model)
            summary["wall_seconds"] = model.wall_seconds_
            test = held_out_metrics(model, split)  # the only use of the test set, after training
            if test is not None:
                summary["test"] = test
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
    if config.patience is None:
        rows = [("final (kept)", "at_stop")]
    elif config.restore_best_weights and summary["best"] is not None:
        rows = [("at stop", "at_stop"), (f"best (step {summary['best_step']}, kept)", "best")]
    else:  # the weights after the last step are kept (the original code's rule, or no improvement at all)
        best = [(f"best (step {summary['best_step']})", "best")] if summary["best"] else []
        rows = [("at stop", "at_stop")] + best + [("final weights (kept)", "final_weights")]
    for label, key in rows:
        metrics = summary[key]
        if metrics:
            print(f"{label:>24}: " + ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))
    if "test" in summary:
        test = summary["test"]
        print(f"{'held-out test (kept)':>24}: test_loss {test['test_loss']:.4f}, test_accuracy "
              f"{test['test_accuracy']:.4f} on {test['n_test_images']} test images, evaluated once after training")
    print(f"weight norm ||w|| = {summary['weight_norm']:.4f}, ||w||^2 = {summary['weight_norm_squared']:.4f}")
