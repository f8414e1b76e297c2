"""`linclass reproduce`: run the course report's experiments, then write summary.json, the figures,
report.md and report.html into one folder, which appears only once everything is written.

Each task's section of the summary, with its figures, is made as soon as its runs are done, while
other runs still train; the report's text is then written from the summary alone (text.py), so every
number in the text can be found in summary.json.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from .._io import (atomic_file, incomplete_status, read_incomplete_settings, resume_command, write_json,
                   write_status)
from .._rename import clean_stale
from .._validation import check_choice, check_int, check_optional_int, check_subset
from ..errors import LinclassError
from ..runs import DTYPES, RunConfig, output_folder
from ..training import stop_on_signals
from .execute import remove_checkpoint, run_all
from .finish import load_finished
from .plan import RULES, TASKS, effective_jobs, group_experiments, plan_experiments
from .schedule import ready_followers
from .summary import build_summary, dataset_block, section_followers
from .text import html, markdown
from .workers import WorkerDied


def reproduce(out: str | Path, *, tasks: tuple[str, ...] = TASKS, seed: int = 0, dtype: str = "float64",
              jobs: int = 1, force: bool = False, data_dir: str | None = None, progress: bool = True,
              max_epochs: int | None = None, resume: bool = False, rules: str = "linclass",
              seeds: int | None = None, dataset: str = "mnist", protocol: str = "assignment",
              train_size: int = 20000, classes=None) -> dict | None:
    """Run the experiments of `tasks` and write OUT/{summary.json, report.md, report.html, figures/, runs/}.

    rules: "linclass" or "original" (the original code's early stopping, plan.RULES); seeds: how many
    seeds each shuffled experiment runs with (None: plan.DEFAULT_SEEDS). dataset, protocol, train_size
    and classes (task 2's pair, default the dataset's) are RunConfig's. max_epochs caps every run
    (a reduced configuration for tests). Returns the summary, or None
    when SIGINT/SIGTERM stopped it: OUT then holds the finished runs and status.json marks it
    incomplete; resume=True continues it with the settings it was started with. A worker process that
    dies ends it with a LinclassError, the folder also left incomplete and resumable.
    """
    started = time.perf_counter()
    out = Path(out) if isinstance(out, (str, Path)) else out
    if not isinstance(out, Path):
        raise LinclassError(f"out must be a path; got {type(out).__name__}.")
    if resume:
        settings = _incomplete_settings(out)
        tasks, seed, dtype, max_epochs, rules, seeds, dataset, protocol, train_size, classes = (
            settings[key] for key in SETTINGS)
    tasks = _check_options(tasks, seed, dtype, jobs, max_epochs, rules, seeds)
    experiments = plan_experiments(tasks, seed=seed, dtype=dtype, max_epochs=max_epochs, rules=rules, seeds=seeds,
                                   dataset=dataset, protocol=protocol, train_size=train_size, classes=classes)
    # The pair as checked and defaulted by RunConfig (task 2's runs), else as the dataset defines it.
    classes = tuple(RunConfig(model="logistic", dataset=dataset, classes=classes).resolved().classes)
    settings = {"tasks": list(tasks), "seed": seed, "dtype": dtype, "max_epochs": max_epochs, "rules": rules,
                "seeds": seeds, "dataset": dataset, "protocol": protocol, "train_size": train_size,
                "classes": list(classes)}
    hint = resume_command("reproduction", out, jobs, data_dir)
    # A fresh reproduction appears atomically (and, interrupted even twice, as an incomplete folder);
    # a resumed one is completed in place, file by file, after removing what dead processes left.
    if resume:
        for folder in (out, out / "runs"):
            clean_stale(folder)
    target = (contextlib.nullcontext(out) if resume
              else output_folder(out, force=force, data_dir=data_dir, keep_on_interrupt=True))
    died = None
    try:
        with target as folder, stop_on_signals() as stop_event:
            summary, died = _run(out, folder, experiments, settings, hint, jobs=jobs, data_dir=data_dir,
                                 progress=progress, started=started, stop_event=stop_event, resume=resume)
    except KeyboardInterrupt:
        if incomplete_status(out, "reproduction") is None:
            raise  # nothing resumable was written
        return None
    if died is not None:
        raise LinclassError(f"{died}; the finished runs and checkpoints are kept in {out}/. Resume with: {hint}")
    return summary


def _run(out: Path, folder: Path, experiments, settings, hint, *, jobs, data_dir, progress, started,
         stop_event, resume) -> tuple[dict | None, WorkerDied | None]:
    """Train what is not finished yet into folder, then write the report; (summary or None, WorkerDied or None)."""
    tasks, seed, dtype, max_epochs, rules, seeds, dataset = (settings[key] for key in SETTINGS[:7])
    tasks, classes = tuple(tasks), tuple(settings["classes"])
    runs_dir = folder / "runs"
    finished = load_finished(runs_dir, experiments) if resume else {}
    remaining = [e for e in experiments if e.name not in finished]
    # Each task's figures are drawn in a free worker as soon as its runs are done (a resume: at once).
    followers = section_followers(tasks, experiments, folder / "figures", dataset_block(settings), data_dir, progress)
    n_jobs = effective_jobs(jobs, len(group_experiments(remaining, jobs)) + ("task1" in tasks)
                            + len(ready_followers(followers, finished)))
    write_status(folder, "reproduction", "incomplete", settings=settings, resume=hint)
    if n_jobs < jobs:
        why = ("one process per CPU core of this machine: more would only share the cores"
               if n_jobs == (os.cpu_count() or 1) else "one process per group of runs to train or figures to draw")
        print(f"linclass reproduce: --jobs {jobs} capped at {n_jobs}, {why}", file=sys.stderr, flush=True)
    if progress:
        print(f"linclass reproduce: {', '.join(tasks)}: {_count(len(remaining), 'training run')}"
              f"{f' ({len(finished)} already finished)' if finished else ''}"
              f"{' and the gradient check' if 'task1' in tasks else ''}, {_count(n_jobs, 'process', 'es')}, "
              f"into {out}/", file=sys.stderr, flush=True)
    try:
        results, gradients, sections = run_all(
            remaining, runs_dir, data_dir=data_dir, seed=seed, jobs=n_jobs, gradient_check="task1" in tasks,
            progress=progress, stop_event=stop_event, dataset=dataset, classes=classes, followers=followers,
            finished=finished)
    except WorkerDied as exc:
        return None, exc
    if stop_event.is_set() or len(results) < len(remaining) or len(sections) < len(followers):
        return None, None
    results = {e.name: (finished.get(e.name) or results[e.name]) for e in experiments}
    if progress:
        print("writing the report", file=sys.stderr, flush=True)
    summary = build_summary(results, gradients, sections, tasks=tasks, seed=seed, dtype=dtype,
                            jobs=n_jobs, max_epochs=max_epochs, started=started, rules=rules, seeds=seeds,
                            jobs_requested=jobs, settings=settings)
    _write_report(folder, summary)
    for stale in runs_dir.glob(".checkpoint-*"):  # states of runs that are finished now
        remove_checkpoint(stale)
    write_status(folder, "reproduction", "complete", settings=settings)
    return summary, None


SETTINGS = ("tasks", "seed", "dtype", "max_epochs", "rules", "seeds", "dataset", "protocol", "train_size", "classes")
DEFAULT_SETTINGS = {"rules": "linclass", "seeds": None, "dataset": "mnist", "protocol": "assignment",
                    "train_size": 20000, "classes": None}  # what a reproduction from before them used


def _incomplete_settings(out: Path) -> dict:
    """The settings of the interrupted reproduction in out, each checked (status.json is untrusted)."""
    saved = read_incomplete_settings(out, "reproduction")
    try:
        settings = {**DEFAULT_SETTINGS, **saved}
        if not isinstance(settings["tasks"], list) or not all(isinstance(task, str) for task in settings["tasks"]):
            raise TypeError("tasks must be a list of names")
        settings["tasks"] = tuple(settings["tasks"])
        _check_options(*(settings[key] for key in ("tasks", "seed", "dtype")), 1,
                       *(settings[key] for key in ("max_epochs", "rules", "seeds")))
        classes = settings["classes"]
        settings["classes"] = None if classes is None else tuple(classes)
        RunConfig(model="logistic", dataset=settings["dataset"], classes=settings["classes"],
                  protocol=settings["protocol"], train_size=settings["train_size"]).resolved()
        return settings
    except (KeyError, TypeError, ValueError) as exc:
        raise LinclassError(f"{out / 'status.json'} is damaged or was edited (settings: {exc}); "
                            "start the reproduction again without --resume.") from None


def _write_report(folder: Path, summary: dict) -> None:
    """summary.json, then the text written from it alone: report.md and report.html."""
    write_json(folder / "summary.json", summary)
    for name, text in (("report.md", markdown(summary)), ("report.html", html(summary, folder))):
        with atomic_file(folder / name, "w") as handle:
            handle.write(text)


def _count(n: int, word: str, suffix: str = "s") -> str:
    return f"{n} {word}{'' if n == 1 else suffix}"


def _check_options(tasks, seed, dtype, jobs, max_epochs, rules, seeds) -> tuple[str, ...]:
    """The options of reproduce() itself, checked as RunConfig checks its fields; returns the tasks."""
    check_int("seed", seed, minimum=0)
    check_choice("rules", rules, RULES)
    check_optional_int("seeds", seeds)
    check_choice("dtype", dtype, DTYPES)
    check_int("jobs", jobs)
    check_optional_int("max_epochs", max_epochs)
    return check_subset("tasks", tasks, TASKS)
