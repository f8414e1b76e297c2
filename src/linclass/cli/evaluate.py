"""`linclass evaluate`: reload a run folder and evaluate its model on one of its sets."""

from __future__ import annotations

from pathlib import Path

from ..data import dataset_source
from ..errors import LinclassError
from ..evaluation import SPLITS, check_split, evaluate, evaluation_set, format_evaluation, write_evaluation
from ..runs import load_data, load_run, make_split


def add_evaluate_parser(commands) -> None:
    """Add `linclass evaluate` and its options to the subcommands."""
    evaluate = commands.add_parser(
        "evaluate", help="evaluate a run: per-class metrics, confusion matrix, most confident mistakes",
        description="Reload a run folder and evaluate its model: loss, accuracy, per-class precision, recall, "
        "F1 and support (scikit-learn's classification_report definitions) and the confusion matrix. Writes "
        "evaluation.json, confusion_matrix.{png,svg} and mistakes.{png,svg} (the 25 most confident wrong "
        "predictions) into RUN_DIR/evaluation/<split>/ or --out.")
    evaluate.add_argument("run_dir", help="a folder written by 'linclass train'")
    evaluate.add_argument("--split", choices=SPLITS, default="val",
                          help="the set to evaluate: the run's validation set, its training set, or "
                          "test images it never validated on, only where its protocol keeps some aside (default: val)")
    evaluate.add_argument("--out", help="folder to write; an earlier evaluation there is replaced "
                          "(default: RUN_DIR/evaluation/<split>)")
    evaluate.add_argument("--dataset", choices=("mnist", "fashion-mnist"),
                          help="the dataset to evaluate on; refused unless the run was trained on it "
                          "(default: the run's dataset)")
    evaluate.add_argument("--data-dir", help="folder with the dataset's four files (default: $LINCLASS_DATA_DIR "
                          "for MNIST, $LINCLASS_FASHION_MNIST_DIR for Fashion-MNIST, else the user cache, else a "
                          "verified download)")
    evaluate.set_defaults(run=cmd_evaluate)


def check_dataset(config, dataset: str | None, run_dir) -> None:
    """Refuse to evaluate a run on a dataset other than the one it was trained on."""
    if dataset is not None and dataset != config.dataset:
        raise LinclassError(f"{run_dir} was trained on {dataset_source(config.dataset).title}, not "
                            f"{dataset_source(dataset).title}; drop --dataset or give --dataset {config.dataset}.")


def cmd_evaluate(args) -> int:
    config, model, metrics = load_run(args.run_dir)
    check_dataset(config, args.dataset, args.run_dir)
    check_split(args.split, has_test=config.protocol == "holdout")  # before any data is read
    split = make_split(config, load_data(config, args.data_dir))
    data = evaluation_set(split, args.split)
    result = evaluate(model, data, list(split.class_names))  # e.g. "3", "2" or "T-shirt/top", "Shirt"
    out = Path(args.out) if args.out else Path(args.run_dir) / "evaluation" / args.split
    written = write_evaluation(out, result, data.X)
    print(f"{config.model} run {args.run_dir}: {format_evaluation(result)}")
    recorded = (metrics.get("best") or {}).get("val_accuracy")
    if args.split == "val" and recorded is not None:
        print(f"\nrecorded at training time: validation accuracy {recorded:.6f}")
    print(f"\nwritten to {out}/: {', '.join(written)}")
    return 0
