"""`linclass export`: write a run's model as one interactive, self-contained HTML page."""

from __future__ import annotations

from ..data import dataset_source, load_dataset
from ..export import MAX_BYTES, check_destination, run_page, write_page
from ..prediction import class_digits
from ..runs import load_run


def add_export_parser(commands) -> None:
    """Add `linclass export` and its options to the subcommands."""
    export = commands.add_parser(
        "export", help="write a run's model as an interactive HTML page",
        description="Write one self-contained HTML file (no network, works from file://): draw a digit and see "
        "the model's class probabilities live, its input after the MNIST-style normalisation of 'linclass "
        "predict', each class's weight template, the evidence maps of the two most probable classes, and "
        "MNIST test images to click. The page of a Fashion-MNIST run takes its test images only (garments are "
        "not drawn).")
    export.add_argument("run_dir", help="a folder written by 'linclass train'")
    export.add_argument("--html", required=True, metavar="FILE", help="the page to write (required); refused if it "
                        "exists, unless --force")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists and is a page linclass "
                        "wrote (any other file is never replaced)")
    export.add_argument("--data-dir", help="folder with the run's dataset's four files, for the test images to click "
                        "(default: $LINCLASS_DATA_DIR for MNIST, $LINCLASS_FASHION_MNIST_DIR for Fashion-MNIST, else "
                        "the user cache, else a verified download)")
    export.set_defaults(run=cmd_export)


def cmd_export(args) -> int:
    config, model, metrics = load_run(args.run_dir)
    check_destination(args.html, args.force)
    source, classes = dataset_source(config.dataset), class_digits(config)
    drawing = source.is_digits  # digits can be drawn; other datasets' pages take test images only
    names = [source.class_names[k] for k in classes]
    kind = "digits" if drawing else "classes"
    if config.model == "logistic":
        title = f"Logistic regression, {names[1]} vs {names[0]}: it knows only these two {kind}"
    else:
        title = f"Softmax regression, ten {kind}" + ("" if drawing else f" of {source.title}")
    accuracy = (metrics.get("best") or metrics.get("at_stop") or {}).get("val_accuracy")
    subtitle = f"L2 strength \u03bb = {config.l2_strength:g}" + (
        f", validation accuracy {accuracy:.4f}" if accuracy is not None else "") + f" (run {args.run_dir})"
    page = run_page(model, classes, load_dataset(config.dataset, args.data_dir), title, subtitle,
                    class_names=list(source.class_names), drawing=drawing, dataset=source.title)
    size = write_page(args.html, page, args.force)
    print(f"page written to {args.html} ({size} bytes, limit {MAX_BYTES}); open it in a browser, no network needed")
    return 0
