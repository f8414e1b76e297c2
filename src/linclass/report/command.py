"""`linclass reproduce`: run the course report's experiments, then write summary.json, the figures,
report.md and report.html into one folder, which appears only once everything is written.

The summary is built first, from the runs; the report's text is then written from the summary
alone (text.py), so every number in the text can be found in summary.json.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
from pathlib import Path

from .._io import atomic_dir, atomic_file, write_json
from ..errors import LinclassError
from ..runs import DTYPES
from ..training import stop_on_signals
from .execute import Result, load_finished, run_all
from .plan import TASKS, effective_jobs, group_experiments, plan_experiments
from .summary import environment, task2, task3, task4
from .text import html, markdown

def reproduce(out: str | Path, *, tasks: tuple[str, ...] = TASKS, seed: int = 0, dtype: str = "float64",
              jobs: int = 1, force: bool = False, data_dir: str | None = None, progress: bool = True,
              max_epochs: int | None = None, resume: bool = False) -> dict | None:
    """Run the experiments of `tasks` and write OUT/{summary.json, report.md, report.html, figures/, runs/}.

    max_epochs caps every run (a reduced configuration for tests). Returns the summary, or None
    when SIGINT/SIGTERM stopped it: OUT then holds the finished runs and status.json marks it
    incomplete; resume=True continues it with the settings it was started with.
    """
    started = time.perf_counter()
    out = Path(out)
    if resume:
        settings = _incomplete_settings(out)
        tasks, seed, dtype, max_epochs = tuple(settings["tasks"]), settings["seed"], settings["dtype"], settings["max_epochs"]
    _check_options(tasks, seed, dtype, jobs, max_epochs)
    settings = {"tasks": list(tasks), "seed": seed, "dtype": dtype, "max_epochs": max_epochs}
    experiments = plan_experiments(tasks, seed=seed, dtype=dtype, max_epochs=max_epochs)
    # A fresh reproduction appears atomically; a resumed one is completed in place, file by file.
    target = contextlib.nullcontext(out) if resume else atomic_dir(out, force=force)
    with target as folder, stop_on_signals() as stop_event:
        runs_dir = folder / "runs"
        finished = load_finished(runs_dir, experiments) if resume else {}
        remaining = [e for e in experiments if e.name not in finished]
        n_jobs = effective_jobs(jobs, len(group_experiments(remaining, jobs)) + ("task1" in tasks))
        write_json(folder / "status.json", {"state": "incomplete", "settings": settings,
                                            "resume": f"linclass reproduce --resume --out {out}"})
        if progress:
            print(f"linclass reproduce: {', '.join(tasks)}: {len(remaining)} training runs"
                  f"{f' ({len(finished)} already finished)' if finished else ''}"
                  f"{' and the gradient check' if 'task1' in tasks else ''}, {n_jobs} process(es), "
                  f"into {out}/", file=sys.stderr, flush=True)
        results, gradients = run_all(remaining, runs_dir, data_dir=data_dir, seed=seed, jobs=n_jobs,
                                     gradient_check="task1" in tasks, progress=progress, stop_event=stop_event)
        if stop_event.is_set() or len(results) < len(remaining):
            return None
        results = {e.name: (finished.get(e.name) or results[e.name]) for e in experiments}
        if progress:
            print("writing figures and the report", file=sys.stderr, flush=True)
        summary = _write_report(folder, results, gradients, tasks=tasks, seed=seed, dtype=dtype, jobs=n_jobs,
                                max_epochs=max_epochs, started=started)
        for stale in runs_dir.glob(".checkpoint-*"):  # states of groups formed differently before a resume
            shutil.rmtree(stale, ignore_errors=True)
        write_json(folder / "status.json", {"state": "complete", "settings": settings})
    return summary


def _incomplete_settings(out: Path) -> dict:
    try:
        status = json.loads((out / "status.json").read_text())
    except (OSError, ValueError) as exc:
        raise LinclassError(f"{out} is not an interrupted reproduction (no readable status.json); "
                            "start one without --resume.") from exc
    if status.get("state") != "incomplete" or "settings" not in status:
        raise LinclassError(f"{out} is a complete reproduction; there is nothing to resume.")
    return status["settings"]


def _write_report(folder: Path, results: dict[str, Result], gradients: dict | None, *, tasks, seed, dtype, jobs,
                  max_epochs, started: float) -> dict:
    figures = folder / "figures"
    summary = {}
    if "task1" in tasks:
        summary["task1"] = gradients["task1"]
    if "task2" in tasks:
        summary["task2"] = task2(results, figures)
    if "task3" in tasks:
        summary["task3"] = task3(results, figures)
    if "task4" in tasks:
        summary["task4"] = task4(results, figures)
    summary["environment"] = environment(
        tasks=tasks, seed=seed, dtype=dtype, jobs=jobs, max_epochs=max_epochs, results=results,
        gradient_seconds=gradients["wall_seconds"] if gradients else None,
        wall_seconds=time.perf_counter() - started)
    write_json(folder / "summary.json", summary)
    for name, text in (("report.md", markdown(summary)), ("report.html", html(summary, folder))):
        with atomic_file(folder / name, "w") as handle:
            handle.write(text)
    return summary


def _check_options(tasks, seed, dtype, jobs, max_epochs) -> None:
    if not tasks or not set(tasks) <= set(TASKS):
        raise LinclassError(f"tasks must be a non-empty subset of {', '.join(TASKS)}; got {tasks!r}.")
    if dtype not in DTYPES:
        raise LinclassError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}.")
    for name, value, least in (("seed", seed, 0), ("jobs", jobs, 1), ("max_epochs", max_epochs, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
            raise LinclassError(f"{name} must be an integer >= {least}; got {value!r}.")
