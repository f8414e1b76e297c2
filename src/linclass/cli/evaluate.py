"""`linclass evaluate`: reload a run folder and measure its model."""

from __future__ import annotations

from ..data import load_mnist
from ..runs import load_run, make_split


def add_evaluate_parser(commands) -> None:
    """Add `linclass evaluate` and its options to the subcommands."""
    evaluate = commands.add_parser("evaluate", help="reload a run folder and print its validation metrics")
    evaluate.add_argument("run_dir", help="a folder written by 'linclass train'")
    evaluate.add_argument("--data-dir", help="folder with the four MNIST files")
    evaluate.set_defaults(run=cmd_evaluate)


def cmd_evaluate(args) -> int:
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
