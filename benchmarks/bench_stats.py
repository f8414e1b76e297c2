"""Summaries of repeated measurements, machine information, and the printed table."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np


def summary(values) -> dict | None:
    """Median, quartiles, min and max of the finite values (None when there are none)."""
    finite = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not finite:
        return None
    q1, median, q3 = np.percentile(finite, [25, 50, 75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3),
            "min": min(finite), "max": max(finite), "n": len(finite), "runs": finite}


def median(values):
    stats = summary(values)
    return None if stats is None else stats["median"]


# ---------------------------------------------------------------- machine and repository


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpuinfo_field(name: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":")[0].strip() == name:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _mem_total_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed (pip install -e '.[bench]')"}]
    return threadpool_info()


def machine_info() -> dict:
    env_prefixes = ("OPENBLAS_", "OMP_", "MKL_", "GOTO", "BLIS_", "NUMEXPR_", "VECLIB_")
    return {
        "cpu_model": cpu_model(),
        "cpu_family": _cpuinfo_field("cpu family"),
        "cpu_model_number": _cpuinfo_field("model"),
        "cpu_mhz": _cpuinfo_field("cpu MHz"),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_total_mb": _mem_total_mb(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": {name: _version(name) for name in
                     ("linclass", "numpy", "scipy", "torch", "scikit-learn", "psutil", "threadpoolctl")},
        "blas": blas_info(),
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(env_prefixes)},
    }


def load_average() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def git_info(repo: Path) -> dict:
    def run(*args):
        try:
            done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.rstrip("\n") if done.returncode == 0 else None

    changed = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": run("rev-parse", "HEAD"), "branch": run("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty_files": changed.splitlines() if changed else []}


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def write_json(path: Path, data: dict) -> None:
    """Write atomically (linclass's one atomic writer), so an interrupted run never leaves half a results file."""
    from linclass._io import atomic_file

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "w") as handle:
        json.dump(data, handle, indent=1, allow_nan=False, default=_jsonable)
        handle.write("\n")


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


# ---------------------------------------------------------------- formatting


def fmt_seconds(stats: dict | None, digits: int = 2) -> str:
    """'6.12 s [5.98-6.40]': median and range."""
    if stats is None:
        return "-"
    m, lo, hi = stats["median"], stats["min"], stats["max"]
    if stats["n"] == 1:
        return f"{m:.{digits}f} s"
    return f"{m:.{digits}f} s [{lo:.{digits}f}-{hi:.{digits}f}]"


def fmt_mb(stats: dict | None) -> str:
    if stats is None:
        return "-"
    if stats["n"] == 1:
        return f"{stats['median']:.0f} MB"
    return f"{stats['median']:.0f} MB [{stats['min']:.0f}-{stats['max']:.0f}]"


def render_table(rows: list[tuple], headers: tuple[str, ...]) -> str:
    """Plain-text table; a row that is a single string is a section title."""
    widths = [len(h) for h in headers]
    for row in rows:
        if isinstance(row, tuple):
            widths = [max(w, len(str(c))) for w, c in zip(widths, row)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)), line]
    for row in rows:
        if isinstance(row, str):
            out.append(row)
        else:
            out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(out)
