"""The "sweep" row: `linclass sweep` over a 3 x 5 softmax-50 grid on one seed, with `--jobs 2` (as
the issue's example, and the target's figure) and `--jobs 1`, against the same 15 runs as separate
`linclass train` commands, measured side by side in the same benchmark run.

Every command runs in a fresh child process (`--no-progress`), so every side pays for start-up and
data loading as a user would; a `train` run uses both cores too (its validation passes run on one
thread per core). Rounds rotate which side goes first.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from . import bench_stats as stats
from .bench_procs import linclass_command

LEARNING_RATES = ("0.001", "0.01", "0.1")
L2_STRENGTHS = ("0", "0.001", "0.01", "0.1", "1")
TARGET_RATIO = 0.25  # the sweep under a quarter of the separate runs' summed time


def _timed(argv: list[str], log_file: Path) -> float:
    """Wall seconds of one linclass command in a child process; raises if it fails."""
    started = time.perf_counter()
    with open(log_file, "wb") as log:
        code = subprocess.call([*linclass_command(), *argv], stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if code != 0:
        tail = log_file.read_text(errors="replace").strip().splitlines()[-1:]
        raise RuntimeError(f"`linclass {' '.join(argv[:2])} ...` exited {code}: {' '.join(tail)}")
    return seconds


def run_sweep(scratch: Path, jobs: int = 2) -> dict:
    out = scratch / f"sweep-jobs{jobs}"
    seconds = _timed(["sweep", "--model", "softmax", "--lr", ",".join(LEARNING_RATES), "--l2", ",".join(L2_STRENGTHS),
                      "--seeds", "0", "--jobs", str(jobs), "--no-progress", "--force", "--out", str(out)],
                     scratch / "sweep.log")
    return {"seconds": seconds}


SIDES = {"sweep": run_sweep, "sweep_jobs1": lambda scratch: run_sweep(scratch, jobs=1), "separate": None}


def run_separate(scratch: Path) -> dict:
    per_run = []
    for rate in LEARNING_RATES:
        for strength in L2_STRENGTHS:
            out = scratch / f"train-{rate}-{strength}"
            per_run.append(_timed(["train", "--model", "softmax", "--lr", rate, "--l2", strength, "--seed", "0",
                                   "--no-progress", "--force", "--out", str(out)], scratch / "train.log"))
    return {"seconds": sum(per_run), "per_run_seconds": per_run}


def measure(repeats: int, attempt, log) -> dict:
    """{'sweep': [runs], 'sweep_jobs1': [runs], 'separate': [runs]}, rotating which goes first each round."""
    rows = {name: [] for name in SIDES}
    with tempfile.TemporaryDirectory(prefix="linclass-bench-sweep-") as scratch:
        for round_index in range(repeats):
            names = list(SIDES)
            order = names[round_index % 3:] + names[:round_index % 3]
            for name in order:
                log(f"sweep row ({round_index + 1}/{repeats}): {name} ...")
                run = attempt(name, SIDES[name] or run_separate, Path(scratch))
                rows[name].append(run)
                log(f"  {name}: " + (f"{run['seconds']:.1f} s" if "error" not in run else run["error"]))
    return rows


def summarize(raw: dict) -> dict | None:
    rows = raw.get("sweep_row")
    if not rows:
        return None
    jobs1 = rows.get("sweep_jobs1") or [{"error": "not measured"}] * len(rows["sweep"])
    good = [(a, c, b) for a, c, b in zip(rows["sweep"], jobs1, rows["separate"]) if "error" not in a and "error" not in b]
    good1 = [(c, b) for _, c, b in good if "error" not in c]
    return {"sweep_seconds": stats.summary([a["seconds"] for a, _, _ in good]),
            "sweep_jobs1_seconds": stats.summary([c["seconds"] for c, _ in good1]),
            "separate_seconds": stats.summary([b["seconds"] for _, _, b in good]),
            "ratio_paired": stats.summary([a["seconds"] / b["seconds"] for a, _, b in good]),
            "ratio_jobs1_paired": stats.summary([c["seconds"] / b["seconds"] for c, b in good1]),
            "errors": [r["error"] for side in rows.values() for r in side if "error" in r and r["error"] != "not measured"]}


def table_rows(summary: dict | None) -> list:
    if summary is None:
        return []
    grid = f"{len(LEARNING_RATES)} x {len(L2_STRENGTHS)}"
    rows = [f"sweep: a {grid} softmax-50 grid (lr {','.join(LEARNING_RATES)} x λ {','.join(L2_STRENGTHS)}), "
            "seed 0, early stopping, fresh processes"]
    if not summary["ratio_paired"]:
        return rows + [("linclass sweep", "failed: " + (summary["errors"] or ["?"])[0][:60], "", "", "")]
    ratio = summary["ratio_paired"]["median"]
    rows.append((f"linclass sweep ({grid} grid, --jobs 2)", stats.fmt_seconds(summary["sweep_seconds"]),
                 f"{ratio:.2f}x of separate", "", ""))
    if summary.get("ratio_jobs1_paired"):
        rows.append((f"linclass sweep ({grid} grid, --jobs 1)", stats.fmt_seconds(summary["sweep_jobs1_seconds"]),
                     f"{summary['ratio_jobs1_paired']['median']:.2f}x of separate", "", ""))
    rows.append((f"  {len(LEARNING_RATES) * len(L2_STRENGTHS)} separate `linclass train` runs, summed",
                 stats.fmt_seconds(summary["separate_seconds"]), "1.00x", "", ""))
    return rows


def target(summary: dict | None) -> list[dict]:
    if summary is None or not summary["ratio_paired"]:
        return []
    ratio = summary["ratio_paired"]["median"]
    return [{"name": "sweep_ratio_to_separate_runs", "value": ratio, "limit": TARGET_RATIO, "met": ratio < TARGET_RATIO,
             "text": f"linclass sweep 3x5 --jobs 2 / 15 separate train runs = {ratio:.2f}x (target < {TARGET_RATIO})"}]
