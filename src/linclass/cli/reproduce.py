"""`linclass reproduce`: every experiment of the course report, into one folder."""

from __future__ import annotations

import argparse
import sys

from .._io import resume_command
from ..report import parse_tasks, reproduce
from .._validation import check_classes
from ..data import dataset_source
from ..report.plan import DEFAULT_SEEDS, RULES
from .args import (_non_negative_int, _positive_int, add_data_options, add_protocol_options,
                   check_protocol_options, ignored_on_resume)

DEFAULT_REPRODUCE_DIR = "reproduce"


def add_reproduce_parser(commands) -> None:
    """Add `linclass reproduce` and its options to the subcommands."""
    reproduce = commands.add_parser(
        "reproduce", help="re-run every experiment of the course report and write the report",
        description="Re-run the experiments of TDT4265 assignment 1 (tasks 1-4), on MNIST or Fashion-MNIST, "
        "and write summary.json, figures/, runs/, report.md and report.html into --out.")
    reproduce.add_argument("--out", default=DEFAULT_REPRODUCE_DIR,
                           help=f"folder to write, refused if it exists (see --force) (default: {DEFAULT_REPRODUCE_DIR})")
    reproduce.add_argument("--force", action="store_true", help="replace --out if it exists (default: refuse)")
    reproduce.add_argument("--resume", action="store_true",
                           help="finish the interrupted reproduction in --out with the settings it started with "
                           "(default: start afresh)")
    reproduce.add_argument("--seed", type=_non_negative_int, default=0,
                           help="seed of the shuffling and of task 1's random weights (default: 0)")
    reproduce.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                           help="floating-point type of training; task 1 always uses float64 (default: float64)")
    reproduce.add_argument("--only", metavar="TASKS",
                           help="comma-separated subset of task1,task2,task3,task4 (default: all four)")
    reproduce.add_argument("--rules", choices=tuple(RULES), default="linclass",
                           help="early-stopping rules: linclass (best validation loss starts at infinity, the best "
                           "weights are restored) or original, those of the original assignment code (it starts at "
                           "1.0, the weights at the stop are kept and their metrics quoted) (default: linclass)")
    reproduce.add_argument("--seeds", type=_positive_int, metavar="N",
                           help="train every shuffled experiment with N seeds (--seed, --seed + 1, ...) and report "
                           "the spread of where it stops (default: "
                           + ", ".join(f"{n} for the {model} runs" for model, n in DEFAULT_SEEDS.items()) + ")")
    reproduce.add_argument("--jobs", type=_positive_int, default=1,
                           help="run this many experiments at once in separate processes, at most one per CPU "
                           "core; the results do not depend on it (default: 1)")
    add_data_options(reproduce, "reproduce the report on")
    add_protocol_options(reproduce)
    reproduce.add_argument("--classes", nargs=2, metavar=("POSITIVE", "NEGATIVE"),
                           help="task 2's two classes, target 1 then target 0, as numbers 0-9 or names (default: "
                           "2 3 on MNIST, Shirt T-shirt/top on Fashion-MNIST)")
    reproduce.add_argument("--no-progress", dest="progress", action="store_false",
                           help="print no progress lines or bars (default: progress lines on stderr)")
    reproduce.add_argument("--max-epochs-override", type=_positive_int, help=argparse.SUPPRESS)  # tests only
    reproduce.set_defaults(run=cmd_reproduce)


def cmd_reproduce(args) -> int:
    check_protocol_options(args)
    if args.resume and ignored_on_resume(args):
        print(f"resuming the reproduction in {args.out} with its saved settings{ignored_on_resume(args)}",
              file=sys.stderr)
    classes = None if args.classes is None else check_classes(args.classes,
                                                              dataset_source(args.dataset).class_names, "--classes")
    summary = reproduce(args.out, tasks=parse_tasks(args.only), seed=args.seed, dtype=args.dtype, jobs=args.jobs,
                        force=args.force, data_dir=args.data_dir, progress=args.progress,
                        max_epochs=args.max_epochs_override, resume=args.resume, rules=args.rules,
                        seeds=args.seeds, dataset=args.dataset, protocol=args.protocol,
                        train_size=args.train_size, classes=classes)
    if summary is None:
        print(f"linclass: interrupted; the finished runs and checkpoints are saved in {args.out}/ (marked "
              f"incomplete). Resume with: {resume_command('reproduction', args.out, args.jobs, args.data_dir)}", file=sys.stderr)
        return 130
    print(f"report written to {args.out}/report.md and {args.out}/report.html "
          f"({summary['environment']['wall_seconds']:.1f} s); every number is in {args.out}/summary.json")
    return 0
