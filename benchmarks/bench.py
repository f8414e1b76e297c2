"""linclass benchmark suite: prints one table and writes benchmarks/results/latest.json.

    python -m benchmarks [--repeats N] [--quick] [--skip-peers] [--skip-reproduce] [--skip-sweep]
                               [--only sweep] [--dtype float64|float32] [--out PATH]

Rows: the matrix-product floor of the ten-class workload, linclass softmax-50 against it, PyTorch
and scikit-learn on the same data, `linclass reproduce` (wall time and peak RSS), MNIST loading, and
`linclass sweep` against the same runs as separate `linclass train` commands.
Every figure is a median over repeats; the in-process rows run interleaved, round by round, and
each linclass run comes right after its own floor measurement, so drifting machine load hits both.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

from . import bench_procs as procs
from . import bench_stats as stats
from . import bench_sweep as sweep_row
from . import bench_workloads as wl
from .bench_summary import build_table, summarize
from .bench_targets import check_targets

HERE = Path(__file__).resolve().parent

RESULTS = HERE / "results"
NOTES = [
    "Every figure is the median over the repeats, with [min-max]; JSON also holds quartiles and every run.",
    f"Workload: {wl.N_TRAIN} x {wl.N_FEATURES} training, {wl.N_VAL} x {wl.N_FEATURES} validation, batch "
    f"{wl.BATCH_SIZE}, {wl.EPOCHS} epochs = {wl.STEPS} steps, a validation every {wl.VALIDATE_EVERY} steps "
    f"from step 0 = {wl.VALIDATIONS} validations over all {wl.N_TRAIN + wl.N_VAL} rows.",
    "Floor: random operands of the same shapes and dtype, preallocated, contiguous 128-row batches; "
    "7,800 x (128x785 @ 785x10 and 785x128 @ 128x10) + 252 x (30,000x785 @ 785x10), np.matmul(out=), "
    "default BLAS threads; measured right before each linclass run, and 'vs floor' is the median of "
    "these paired ratios. The same floor with BLAS limited to 1 thread is measured right after; the "
    "'tightest floor' takes, per part and per round, the faster of the two (information only: the "
    "targets use the floor as defined).",
    "In-process rows run interleaved: each round runs (floor, linclass), torch, lbfgs, SGD, rotating "
    "the order from round to round.",
    "Time to 91.5%: linclass and torch stamp time.perf_counter() after every validation (the time "
    "includes the validations before it). lbfgs: the smallest max_iter whose from-scratch fit reaches "
    "91.5% is found once (doubling, then bisection; not timed), then that fit is timed every round. "
    "SGDClassifier: partial_fit one epoch at a time, summing partial_fit time (scoring not counted) "
    "until validation accuracy reaches 91.5% (at most 50 epochs, linclass's budget, else 'never').",
    "scikit-learn: LogisticRegression(solver='lbfgs') with its defaults C=1.0 and max_iter=100 "
    "(multinomial; it stops at max_iter with a ConvergenceWarning: converging takes ~700 iterations, "
    "~7x the time, and ends at a lower validation accuracy); SGDClassifier(loss='log_loss') with its defaults (one-vs-rest, alpha=1e-4, "
    "optimal schedule, early stop on training loss). Both on the same 784 scaled pixels, fitting "
    "their own intercept, in the dtype of the run.",
    "PyTorch: nn.Linear(784, 10) zero-initialised, F.cross_entropy, optim.SGD(lr=0.01), "
    "torch.randperm per epoch, float32, torch.set_num_threads(cores); each validation computes both "
    "losses and accuracies on all 30,000 rows, as linclass does.",
    "reproduce: each run is a fresh child process; peak RSS per process is the larger of "
    "RUSAGE_CHILDREN ru_maxrss (exact, largest single descendant) and psutil sampling of every "
    "process in the tree every 50 ms (also gives the tree's total).",
    "Data: load_mnist() timed inside a fresh interpreter; 'first' with an empty LINCLASS_CACHE_DIR "
    "(hash, gunzip, parse, write the decoded cache), 'cached' in a second interpreter on that cache.",
]


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats of the expensive rows (default 3; 1 with --quick); "
                        "cheap rows use max(5, N)")
    parser.add_argument("--quick", action="store_true",
                        help="one repeat of everything (two of the cheap rows); writes results/quick.json "
                        "unless --out is given")
    parser.add_argument("--skip-peers", action="store_true", help="no PyTorch or scikit-learn rows")
    parser.add_argument("--skip-reproduce", action="store_true", help="no `linclass reproduce` rows")
    parser.add_argument("--skip-sweep", action="store_true", help="no `linclass sweep` row")
    parser.add_argument("--only", choices=("sweep",),
                        help="measure only this row (sweep: `linclass sweep` 3 x 5 vs 15 `linclass train` runs; "
                        "writes results/sweep.json unless --out is given)")
    parser.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                        help="dtype of the floor, linclass and scikit-learn rows (default float64; "
                        "PyTorch is always float32)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON results file (default benchmarks/results/latest.json)")
    parser.add_argument("--show", type=Path, metavar="RESULTS_JSON",
                        help="print the table of an existing results file and exit (measures nothing)")
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be >= 1; got {args.repeats}")
    args.repeats_given = args.repeats is not None
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.cheap_repeats = 2 if args.quick and args.repeats == 1 else max(5, args.repeats)
    if args.out is None:
        args.out = RESULTS / (f"{args.only}.json" if args.only else "quick.json" if args.quick else "latest.json")
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def attempt(label: str, function, *args, **kwargs):
    """Run one measurement; an exception becomes {'error': ...} so the other rows still run."""
    try:
        return function(*args, **kwargs)
    except Exception as exc:  # a benchmark reports failures, it does not hide the other rows
        log(f"  {label} failed: {type(exc).__name__}: {exc}")
        log(traceback.format_exc(limit=3))
        return {"error": f"{type(exc).__name__}: {exc}"}


def peer_availability() -> dict:
    found = {}
    for name, module in (("torch", "torch"), ("sklearn", "sklearn")):
        try:
            __import__(module)
            found[name] = None
        except ImportError as exc:
            found[name] = f"not installed ({exc.name}); pip install -e '.[bench]'"
    return found


def resolve_data_dir() -> str | None:
    """The folder load_mnist uses, so that the data rows' fresh caches never trigger a download."""
    try:
        from linclass.data import resolve_data_dir as resolve

        return str(resolve())
    except Exception:
        return os.environ.get("LINCLASS_DATA_DIR")


# ---------------------------------------------------------------- the in-process rows


def measure_in_process(args, split, results: dict, split_float32=None, data_dir: str | None = None) -> None:
    dtype = np.dtype(args.dtype).type
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    floor_arrays = wl.make_floor_arrays(dtype)
    runs = {name: [] for name in ("floor", "floor_1_thread", "linclass", "torch", "lbfgs", "lbfgs_to_target",
                                  "sgd", "sgd_to_target", "linclass_float32", "gradient_check")}
    blocks = ["linclass"]
    peers = {} if args.skip_peers else peer_availability()
    results["peers_missing"] = {k: v for k, v in peers.items() if v}
    torch_inputs = sk_data = lbfgs_target = None
    if peers.get("torch", "skipped") is None:
        torch_inputs = wl.torch_inputs(split)
        blocks.append("torch")
    if peers.get("sklearn", "skipped") is None:
        sk_data = wl.sklearn_inputs(split)
        log("scikit-learn lbfgs: searching the smallest max_iter that reaches 91.5% (not timed) ...")
        lbfgs_target = attempt("lbfgs search", wl.lbfgs_iterations_to_target, sk_data)
        log(f"  -> max_iter {lbfgs_target.get('max_iter')}")
        results["lbfgs_search"] = lbfgs_target
        blocks += ["lbfgs", "sgd"]

    _warm_up(floor_arrays, split, torch_inputs, threads)
    for round_index in range(args.repeats):
        shift = round_index % len(blocks)
        order = blocks[shift:] + blocks[:shift]
        log(f"round {round_index + 1}/{args.repeats}: {', '.join(order)}")
        for name in order:
            if name == "linclass":
                floor = attempt("floor", wl.run_floor, floor_arrays)
                runs["floor"].append(floor)
                run = attempt("linclass", wl.run_linclass, split)
                runs["linclass"].append(run)
                runs["floor_1_thread"].append(attempt("floor (1 thread)", wl.run_floor_single_thread,
                                                      floor_arrays))
                log(f"  floor {_s(floor)}, linclass {_s(run)}, floor 1 thread {_s(runs['floor_1_thread'][-1])}")
                if split_float32 is not None:  # the same fit in float32, for the ratio to PyTorch's float32 loop
                    runs["linclass_float32"].append(attempt("linclass float32", wl.run_linclass, split_float32))
                runs["gradient_check"].append(attempt("gradient check", procs.run_gradient_check, data_dir))
                log(f"  linclass float32 {_s((runs['linclass_float32'] or [None])[-1])}, "
                    f"task 1 gradient check {_s(runs['gradient_check'][-1])}")
            elif name == "torch":
                runs["torch"].append(attempt("torch", wl.run_torch, torch_inputs, threads))
                log(f"  torch {_s(runs['torch'][-1])}")
            elif name == "lbfgs":
                runs["lbfgs"].append(attempt("lbfgs", wl.fit_lbfgs, sk_data))
                k = lbfgs_target.get("max_iter")
                runs["lbfgs_to_target"].append(attempt("lbfgs to target", wl.fit_lbfgs, sk_data, k) if k else None)
                log(f"  lbfgs {_s(runs['lbfgs'][-1])}, to 91.5% {_s(runs['lbfgs_to_target'][-1])}")
            elif name == "sgd":
                runs["sgd"].append(attempt("sgd", wl.fit_sgd, sk_data))
                runs["sgd_to_target"].append(attempt("sgd to target", wl.sgd_time_to_target, sk_data))
                log(f"  sgd {_s(runs['sgd'][-1])}, to 91.5% {_s(runs['sgd_to_target'][-1])}")
    results["runs"] = runs
    results["torch_threads"] = threads if torch_inputs is not None else None


def _warm_up(floor_arrays, split, torch_inputs, threads) -> None:
    """First calls pay for page faults, BLAS thread start-up, threadpoolctl's library scan and torch's
    lazy init; not timed."""
    wl.run_linclass(split, max_epochs=1)
    X, W = floor_arrays["X_all"], floor_arrays["W"]
    for _ in range(3):
        X @ W
    for i in range(200):
        X[i:i + 128] @ W
    if torch_inputs is not None:
        import torch

        torch.set_num_threads(threads)
        layer = torch.nn.Linear(784, 10)
        loss = torch.nn.functional.cross_entropy(layer(torch_inputs["X_all"][:128]), torch_inputs["y_train"][:128])
        loss.backward()


def _s(run) -> str:
    if not run:
        return "-"
    if "error" in run:
        return "error"
    return f"{run['seconds']:.2f} s" if run.get("seconds") is not None else "never"


# ---------------------------------------------------------------- the child-process rows


def measure_reproduce(args, results: dict) -> None:
    support = procs.reproduce_support()
    results["reproduce_support"] = support
    variants = [("default", None, ())] + ([("jobs2", 2, ()), ("jobs2_float32", 2, ("--dtype", "float32"))]
                                          if support.get("jobs") else [])
    rows = {name: [] for name, *_ in variants}
    results["reproduce"] = rows
    if not support["available"]:
        log(f"linclass reproduce: not available ({support['reason']})")
        return
    with tempfile.TemporaryDirectory(prefix="linclass-bench-reproduce-") as scratch:
        for round_index in range(args.repeats):
            order = variants if round_index % 2 == 0 else variants[::-1]
            for name, jobs, extra in order:
                out = Path(scratch) / f"{name}-{round_index}"
                log(f"reproduce {name} ({round_index + 1}/{args.repeats}) ...")
                run = attempt("reproduce", procs.run_reproduce, out, jobs, support, extra)
                rows[name].append(run)
                if "error" in run:
                    log(f"  error: {run['error']}")
                else:
                    log(f"  {run['seconds']:.2f} s, peak RSS {run['max_rss_mb']:.0f} MB/process "
                        f"({run.get('processes_seen', '?')} processes)")


def measure_memory(args, data_dir: str | None, results: dict) -> None:
    """Peak RSS of `linclass train --model softmax`, and of one epoch on 20,000 and on 60,000 training images."""
    results["train_rss"], results["growth"] = [], {"20000": [], "60000": []}
    with tempfile.TemporaryDirectory(prefix="linclass-bench-train-") as scratch:
        for index in range(args.repeats):
            run = attempt("train", procs.run_train_rss, Path(scratch) / f"run-{index}")
            results["train_rss"].append(run)
            for n_train in ((20000, 60000) if index % 2 == 0 else (60000, 20000)):
                results["growth"][str(n_train)].append(attempt("growth", procs.run_growth, n_train, data_dir))
            log(f"train --model softmax {index + 1}/{args.repeats}: {_s(run)}, peak RSS "
                f"{run.get('max_rss_mb', 0):.0f} MB; one epoch on 20,000 / 60,000 images: "
                f"{results['growth']['20000'][-1].get('max_rss_mb', 0):.0f} / "
                f"{results['growth']['60000'][-1].get('max_rss_mb', 0):.0f} MB")


def measure_data(args, data_dir: str | None, results: dict) -> None:
    pairs = []
    for index in range(args.cheap_repeats):
        pairs.append(attempt("load", procs.run_load_pair, data_dir))
        log(f"data load {index + 1}/{args.cheap_repeats}: first {_s(pairs[-1].get('first'))}, "
            f"cached {_s(pairs[-1].get('cached'))}")
    results["data"] = pairs


def report(args, results: dict) -> None:
    """Print the header, the table and the targets of a results dict."""
    git, machine = results["git"], results["machine"]
    header = (f"linclass benchmark, {results['date']}, commit {(git['commit'] or 'unknown')[:10]}"
              f"{' (+ uncommitted changes)' if git['dirty_files'] else ''}; {machine['cpu_model']}, "
              f"{machine['logical_cores']} cores; numpy {machine['versions']['numpy']}; "
              f"{args.repeats} repeats (cheap rows {args.cheap_repeats})"
              f"{'; QUICK' if results.get('quick') else ''}")
    blas = [f"{b.get('internal_api')} {b.get('version')} {b.get('num_threads')} threads"
            for b in machine["blas"] if b.get("user_api") == "blas"]
    env = " ".join(f"{k}={v}" for k, v in machine["env"].items()) or "none"
    print(header)
    print(f"BLAS: {'; '.join(blas) or 'unknown'}; env: {env}; load average start "
          f"{_load(results['load_average_start'])}, end {_load(results['load_average_end'])}")
    print()
    print(results["table"])
    print()
    for check in results["targets"]:
        mark = {True: "met", False: "MISSED", None: "info" if check["value"] is not None else "n/a"}[check["met"]]
        print(f"[{mark:>6}] {check['text']}")


def show(args) -> int:
    import json

    results = json.loads(args.show.read_text())
    settings = results["settings"]
    args.dtype, args.repeats, args.cheap_repeats = settings["dtype"], settings["repeats"], settings["cheap_repeats"]
    args.skip_peers, args.skip_reproduce = settings["skip_peers"], settings["skip_reproduce"]
    raw, only_sweep = results["raw"], settings.get("only") == "sweep"
    summary = {} if only_sweep else summarize(args, raw)
    rows = sweep_row.table_rows(sweep_row.summarize(raw))
    results["table"] = (stats.render_table(rows, ("row", "median [min-max]", "vs separate runs", "", ""))
                        if only_sweep else build_table(args, summary, raw, extra_rows=rows))
    results["targets"] = ([] if only_sweep else check_targets(args, summary, raw)) + sweep_row.target(
        sweep_row.summarize(raw))
    report(args, results)
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.show:
        return show(args)
    import linclass

    started = time.perf_counter()
    results = {"schema": 1, "date": stats.now_iso(), "quick": args.quick,
               "settings": {"dtype": args.dtype, "repeats": args.repeats, "cheap_repeats": args.cheap_repeats,
                            "skip_peers": args.skip_peers, "skip_reproduce": args.skip_reproduce,
                            "skip_sweep": args.skip_sweep, "only": args.only,
                            "argv": sys.argv[1:]},
               "git": stats.git_info(HERE.parent), "machine": stats.machine_info(),
               "load_average_start": stats.load_average()}
    log(f"linclass benchmark: {args.dtype}, {args.repeats} repeats (cheap rows {args.cheap_repeats}); "
        f"load average {results['load_average_start']}")
    data_dir = resolve_data_dir()
    results["data_dir"] = data_dir
    raw: dict = {}
    if args.only == "sweep":
        return _finish(args, results, _measure_sweep(args, raw), started)
    measure_data(args, data_dir, raw)

    measure_memory(args, data_dir, raw)
    mnist = linclass.load_mnist()
    split, _ = wl.linclass_split(mnist, np.dtype(args.dtype).type)
    split_float32 = wl.linclass_split(mnist, np.float32)[0] if args.dtype == "float64" else None
    raw["preprocess_seconds"] = [wl.linclass_split(mnist, np.dtype(args.dtype).type)[1]
                                 for _ in range(args.cheap_repeats)]
    measure_in_process(args, split, raw, split_float32, data_dir)
    del split, split_float32, mnist
    if not args.skip_reproduce:
        measure_reproduce(args, raw)
    if not args.skip_sweep:
        _measure_sweep(args, raw)
    return _finish(args, results, raw, started)


def _measure_sweep(args, raw: dict) -> dict:
    """The sweep row: one round unless --repeats says otherwise (each round takes minutes)."""
    rounds = args.repeats if args.repeats_given else 1
    raw["sweep_row"] = sweep_row.measure(rounds, attempt, log)
    return raw


def _finish(args, results: dict, raw: dict, started: float) -> int:
    """Summarise, print the table and the targets, and write the results file."""
    only_sweep = args.only == "sweep"
    summary = {} if only_sweep else summarize(args, raw)
    summary["sweep"] = sweep_row.summarize(raw)
    targets = ([] if only_sweep else check_targets(args, summary, raw)) + sweep_row.target(summary["sweep"])
    rows = sweep_row.table_rows(summary["sweep"])
    table = (stats.render_table(rows, ("row", "median [min-max]", "vs separate runs", "", "")) if only_sweep
             else build_table(args, summary, raw, extra_rows=rows))
    results.update({"load_average_end": stats.load_average(), "bench_seconds": time.perf_counter() - started,
                    "summary": summary, "targets": targets, "notes": NOTES + [sweep_row.__doc__.strip()], "raw": raw,
                    "table": table})
    report(args, results)
    stats.write_json(args.out, results)
    print(f"\nfull results and method notes: {args.out}")
    return 0


def _load(values):
    return "?" if not values else "/".join(f"{v:.2f}" for v in values)

