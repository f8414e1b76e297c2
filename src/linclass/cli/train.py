"""`linclass train`: train one model into a run folder, or resume an interrupted one."""

from __future__ import annotations

import sys
from pathlib import Path

from ..data import load_mnist
from ..runs import RunConfig, load_checkpoint, make_split, save_checkpoint, save_run, summarize, train
from .._io import atomic_dir
from ..training import ProgressBar, stop_on_signals


def cmd_train(args) -> int:

    if args.resume:
        return _resume_train(args)
    config = RunConfig(model=args.model, digits=tuple(args.digits), learning_rate=args.lr,
                       batch_size=args.batch_size, epochs=args.epochs, l2=args.l2,
                       penalize_bias=args.penalize_bias, shuffle=args.shuffle, patience=args.patience,
                       seed=args.seed, dtype=args.dtype).resolved()
    return _train_into(args, config, resume_from=None)


def _resume_train(args) -> int:

    config, checkpoint = load_checkpoint(args.out)
    print(f"resuming {args.out} at step {checkpoint['meta']['global_step']} with its saved settings "
          "(other training options are ignored)", file=sys.stderr)
    return _train_into(args, config, resume_from=checkpoint, replace=True)


def _train_into(args, config, resume_from, replace: bool = False) -> int:

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
