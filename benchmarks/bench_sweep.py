"""The "sweep" row: `linclass sweep` over a 3 x 5 softmax-50 grid on one seed, against the same 15
runs as separate `linclass train` commands, measured side by side in the same benchmark run.

Every command runs in a fresh child process (`--no-progress`, one process for the sweep), so both
sides pay for start-up and data loading as a user would; rounds alternate which side goes first.
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


def run_sweep(scratch: Path) -> dict:
    out = scratch / "sweep"
    seconds = _timed(["sweep", "--model", "softmax", "--lr", ",".join(LEARNING_RATES), "--l2", ",".join(L2_STRENGTHS),
                      "--seeds", "0", "--jobs", "1", "--no-progress", "--force", "--out", str(out)],
                     scratch / "sweep.log")
    return {"seconds": seconds}


def run_separate(scratch: Path) -> dict:
    per_run = []
    for rate in LEARNING_RATES:
        for strength in L2_STRENGTHS:
            out = scratch / f"train-{rate}-{strength}"
            per_run.append(_timed(["train", "--model", "softmax", "--lr", rate, "--l2", strength, "--seed", "0",
                                   "--no-progress", "--force", "--out", str(out)], scratch / "train.log"))
    return {"seconds": sum(per_run), "per_run_seconds": per_run}


def measure(repeats: int, attempt, log) -> dict:
    """{'sweep': [runs], 'separate': [runs]}, alternating which goes first from round to round."""
    rows = {"sweep": [], "separate": []}
    with tempfile.TemporaryDirectory(prefix="linclass-bench-sweep-") as scratch:
        for round_index in range(repeats):
            order = ("sweep", "separate") if round_index % 2 == 0 else ("separate", "sweep")
            for name in order:
                log(f"sweep row ({round_index + 1}/{repeats}): {name} ...")
                run = attempt(name, run_sweep if name == "sweep" else run_separate, Path(scratch))
                rows[name].append(run)
                log(f"  {name}: " + (f"{run['seconds']:.1f} s" if "error" not in run else run["error"]))
    return rows


def summarize(raw: dict) -> dict | None:
    rows = raw.get("sweep_row")
    if not rows:
        return None
    good = [(a, b) for a, b in zip(rows["sweep"], rows["separate"]) if "error" not in a and "error" not in b]
    return {"sweep_seconds": stats.summary([a["seconds"] for a, _ in good]),
            "separate_seconds": stats.summary([b["seconds"] for _, b in good]),
            "ratio_paired": stats.summary([a["seconds"] / b["seconds"] for a, b in good]),
            "errors": [r["error"] for r in rows["sweep"] + rows["separate"] if "error" in r]}


def table_rows(summary: dict | None) -> list:
    if summary is None:
        return []
    grid = f"{len(LEARNING_RATES)} x {len(L2_STRENGTHS)}"
    rows = [f"sweep: a {grid} softmax-50 grid (lr {','.join(LEARNING_RATES)} x λ {','.join(L2_STRENGTHS)}), "
            "seed 0, early stopping, fresh processes"]
    if not summary["ratio_paired"]:
        return rows + [("linclass sweep", "failed: " + (summary["errors"] or ["?"])[0][:60], "", "", "")]
    ratio = summary["ratio_paired"]["median"]
    rows.append((f"linclass sweep ({grid} grid, --jobs 1)", stats.fmt_seconds(summary["sweep_seconds"]),
                 f"{ratio:.2f}x of separate", "", ""))
    rows.append((f"  {len(LEARNING_RATES) * len(L2_STRENGTHS)} separate `linclass train` runs, summed",
                 stats.fmt_seconds(summary["separate_seconds"]), "1.00x", "", ""))
    return rows


def target(summary: dict | None) -> list[dict]:
    if summary is None or not summary["ratio_paired"]:
        return []
    ratio = summary["ratio_paired"]["median"]
    return [{"name": "sweep_ratio_to_separate_runs", "value": ratio, "limit": TARGET_RATIO, "met": ratio < TARGET_RATIO,
             "text": f"linclass sweep 3x5 / 15 separate train runs = {ratio:.2f}x (target < {TARGET_RATIO})"}]
