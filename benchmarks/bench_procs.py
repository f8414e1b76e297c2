"""Measurements in fresh child processes: `linclass reproduce` (wall time, peak RSS) and MNIST loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Runs the command given in argv[2:], its output into the log file argv[1], and reports its wall time
# and RUSAGE_CHILDREN: ru_maxrss there is the largest peak RSS of any single waited-for descendant
# (the command itself, or a worker it started), in KiB on Linux. A fresh wrapper per run keeps the
# figure per run.
_WRAPPER = r"""
import json, resource, subprocess, sys, time
with open(sys.argv[1], "wb") as log:
    started = time.perf_counter()
    rc = subprocess.call(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "seconds": seconds, "maxrss_kb": usage.ru_maxrss,
                  "user_seconds": usage.ru_utime, "system_seconds": usage.ru_stime}))
"""

_LOADER = r"""
import json, time
started = time.perf_counter()
import linclass
imported = time.perf_counter()
mnist = linclass.load_mnist()
loaded = time.perf_counter()
print(json.dumps({"seconds": loaded - imported, "import_seconds": imported - started,
                  "train_images": list(mnist.train_images.shape)}))
"""

_CHECKER = r"""
import json, sys
from linclass.report.gradient_check import check_gradients
result = check_gradients(sys.argv[1] if len(sys.argv) > 1 else None)
print(json.dumps({"seconds": result["wall_seconds"],
                  "passed": all(result["task1"][name]["passed"] for name in ("logistic", "softmax"))}))
"""

POLL_SECONDS = 0.05


def linclass_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m linclass.cli`."""
    script = Path(sys.executable).with_name("linclass")
    return [str(script)] if script.exists() else [sys.executable, "-m", "linclass.cli"]


def reproduce_support() -> dict:
    """Whether `linclass reproduce` exists here, and which of its options."""
    try:
        done = subprocess.run([*linclass_command(), "reproduce", "--help"], capture_output=True,
                              text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"available": False, "reason": str(exc)}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"available": False, "reason": f"`linclass reproduce --help` exited {done.returncode}: {last}"}
    text = done.stdout
    return {"available": True, "jobs": "--jobs" in text, "no_progress": "--no-progress" in text,
            "force": "--force" in text}


def run_reproduce(out_dir: Path, jobs: int | None, support: dict, extra: tuple[str, ...] = ()) -> dict:
    """One `linclass reproduce --out DIR --force [--jobs N] [--no-progress] [extra]` in a fresh wrapper process."""
    command = [*linclass_command(), "reproduce", "--out", str(out_dir), *extra]
    if support.get("force"):
        command.append("--force")
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    if support.get("no_progress"):
        command.append("--no-progress")
    log = out_dir.with_name(out_dir.name + ".log")
    wrapper = subprocess.Popen([sys.executable, "-c", _WRAPPER, str(log), *command],
                               stdout=subprocess.PIPE, text=True)
    peaks = _poll_tree(wrapper)
    stdout, _ = wrapper.communicate()
    try:
        report = json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": f"wrapper printed no report (exit {wrapper.returncode})", "command": command}
    result = {"command": command, "seconds": report["seconds"], "rc": report["rc"],
              "user_seconds": report["user_seconds"], "system_seconds": report["system_seconds"],
              "max_rss_mb_rusage": report["maxrss_kb"] / 1024}
    if peaks is not None:
        result.update(peaks)
        result["max_rss_mb"] = max(result["max_rss_mb_rusage"], peaks["max_rss_mb_polled"])
    else:
        result["max_rss_mb"] = result["max_rss_mb_rusage"]
    if report["rc"] != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
        result["error"] = f"exit {report['rc']}: " + " | ".join(tail)
    return result


def _poll_tree(wrapper: subprocess.Popen) -> dict | None:
    """Sample the RSS of every process under the wrapper until it exits: per-process and whole-tree peaks.

    Sampling (every POLL_SECONDS) can miss a short spike; ru_maxrss from the wrapper cannot, but it
    only gives the single largest process.
    """
    try:
        import psutil
    except ImportError:
        wrapper.wait()
        return None
    try:
        root = psutil.Process(wrapper.pid)
    except psutil.NoSuchProcess:
        return None
    per_process: dict[int, dict] = {}
    tree_peak = 0
    while wrapper.poll() is None:
        total = 0
        try:
            children = root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for process in children:
            try:
                rss = process.memory_info().rss
                if process.pid not in per_process:
                    per_process[process.pid] = {"peak_mb": 0.0, "cmdline": " ".join(process.cmdline()[-4:])}
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            total += rss
            entry = per_process[process.pid]
            entry["peak_mb"] = max(entry["peak_mb"], rss / 2**20)
        tree_peak = max(tree_peak, total)
        time.sleep(POLL_SECONDS)
    peaks = sorted((p["peak_mb"] for p in per_process.values()), reverse=True)
    return {"max_rss_mb_polled": peaks[0] if peaks else 0.0, "processes_seen": len(per_process),
            "process_peaks_mb": [round(p, 1) for p in peaks], "tree_peak_mb_polled": tree_peak / 2**20}


def run_load(cache_dir: Path, data_dir: str | None) -> dict:
    """Time load_mnist() inside a fresh interpreter with LINCLASS_CACHE_DIR=cache_dir."""
    env = dict(os.environ, LINCLASS_CACHE_DIR=str(cache_dir))
    if data_dir is not None:
        env["LINCLASS_DATA_DIR"] = data_dir
    done = subprocess.run([sys.executable, "-c", _LOADER], capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {last}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_load_pair(data_dir: str | None) -> dict:
    """A first load (empty cache: gunzip, parse, write the cache) then a cached load, both fresh processes."""
    with tempfile.TemporaryDirectory(prefix="linclass-bench-cache-") as cache:
        first = run_load(Path(cache), data_dir)
        cached = run_load(Path(cache), data_dir)
    return {"first": first, "cached": cached}


def run_train_rss(out_dir: Path) -> dict:
    """`linclass train --model softmax` (the report's defaults, 50 epochs) in a fresh process: wall time and peak RSS."""
    command = [*linclass_command(), "train", "--model", "softmax", "--no-progress", "--force", "--out", str(out_dir)]
    done = subprocess.run([sys.executable, "-c", _WRAPPER, str(out_dir.with_name(out_dir.name + ".log")), *command],
                          capture_output=True, text=True, timeout=3600)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    result = {"seconds": report["seconds"], "max_rss_mb": report["maxrss_kb"] / 1024, "rc": report["rc"]}
    if report["rc"] != 0:
        result["error"] = f"exit {report['rc']}"
    return result


# Peak RSS of a process that loads MNIST, builds the ten-class split with n_train training images
# (argv[1]) and trains one epoch of softmax regression on it.
_GROWTH = r"""
import json, resource, sys
import numpy as np
from linclass import SoftmaxRegression, Trainer, load_mnist, ten_class_split
split = ten_class_split(load_mnist(), n_train=int(sys.argv[1]))
SoftmaxRegression().fit(split.X_train, split.y_train, split.X_val, split.y_val, trainer=Trainer(max_epochs=1))
print(json.dumps({"max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "feature_bytes": int(getattr(split.X_train, "nbytes", 0) + getattr(split.X_val, "nbytes", 0))}))
"""


def run_growth(n_train: int, data_dir: str | None) -> dict:
    """Peak RSS of one epoch of softmax training on n_train training images, in a fresh interpreter."""
    env = dict(os.environ)
    if data_dir is not None:
        env["LINCLASS_DATA_DIR"] = data_dir
    done = subprocess.run([sys.executable, "-c", _GROWTH, str(n_train)], capture_output=True, text=True, env=env,
                          timeout=1800)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {last}"}
    return {"n_train": n_train, **json.loads(done.stdout.strip().splitlines()[-1])}


def run_gradient_check(data_dir: str | None) -> dict:
    """Task 1 of the report (check_gradients: its own wall time, the MNIST load included) in a fresh
    interpreter, as `reproduce` runs it: not beside the benchmark's own PyTorch and BLAS threads."""
    done = subprocess.run([sys.executable, "-c", _CHECKER, *([data_dir] if data_dir else [])], capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {last}"}
    return json.loads(done.stdout.strip().splitlines()[-1])
