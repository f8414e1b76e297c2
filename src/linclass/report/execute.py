"""Running the report's experiments: each lock-step group in this process or in worker processes.

Every experiment runs with one BLAS thread: the summation order of a matrix product depends on
the number of threads, so pinning it is what makes `--jobs 1` and `--jobs 2` give bit-identical
results. Parallelism comes from running independent experiments in separate processes instead.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path

from threadpoolctl import threadpool_limits

from ..errors import LinclassError
from ..runs import train_many
from ..runs.checkpoint_file import check_order, checkpoint_members
from ..runs.store import load_trainer_state, save_trainer_state
from ..training import ProgressBar
from .data_cache import split_for
from .finish import Result, finish
from .gradient_check import check_gradients, say
from .plan import (BLAS_THREADS, MAX_TITLES, Experiment, checkpoint_name, effective_jobs, group_experiments,
                   group_titles)
from .schedule import Follower, ready_followers, run_tasks
from .workers import CHECK, TRAIN


def run_group(experiments: list[Experiment], runs_dir: Path, data_dir: str | None = None, *,
              position: str = "", progress: bool = False, progress_bar: bool = False,
              stop_event=None, threads: int | None = None, drop_diverged: bool = False) -> list[Result] | None:
    """Train experiments that differ only in learning rate and L2 together (lock-step, one BLAS thread),
    and write each one's run folder runs_dir/<name>/. Each result is bit-identical to training it alone.
    A diverging run raises TrainingDiverged, or with drop_diverged (sweeps) leaves the group and is
    written as diverged (finish.py) while the others train on.

    Returns None, writing nothing, when stop_event ends the training early."""
    titles = group_titles(experiments)
    if stop_event is not None and stop_event.is_set():
        return None  # stopping: a group not yet started is left for --resume
    # An interrupted group leaves its trainer state in one file naming its runs; --resume continues it.
    configs, names = [e.config for e in experiments], [e.name for e in experiments]
    saved_state = checkpoint_path(runs_dir, experiments)
    legacy = saved_state.with_suffix("")
    resume_from = (load_trainer_state(saved_state, configs) if saved_state.is_file()
                   else load_trainer_state(legacy, configs) if (legacy / "checkpoint.json").is_file() else None)
    say(progress, f"[{position}] {titles}: " + (f"resumed at step {resume_from['meta']['global_step']}"
                                                 if resume_from else "started"))
    with threadpool_limits(limits=BLAS_THREADS):
        split = split_for(experiments[0].config, data_dir)
        if resume_from is not None:
            check_order(resume_from, len(split.y_train), saved_state)
        bars = [[ProgressBar(experiments[0].title if len(experiments) == 1
                             else f"{len(experiments)} runs in lock-step")]] if progress_bar else [[]]
        models = train_many([e.config for e in experiments], split, resume_from=resume_from, stop_event=stop_event,
                            callbacks_per_model=bars + [[] for _ in experiments[1:]], threads=threads,
                            drop_diverged=drop_diverged)
    if models[0].checkpoint_ is not None:
        save_trainer_state(saved_state, models[0].checkpoint_, configs, names)
        say(progress, f"[{position}] interrupted at step {models[0].checkpoint_['meta']['global_step']}; "
                       "saved for --resume")
        return None
    results = [finish(experiment, model, split, runs_dir, experiments) for experiment, model in zip(experiments, models)]
    remove_checkpoint(saved_state)
    remove_checkpoint(legacy)
    say(progress, f"[{position}] done in {models[0].wall_seconds_:.1f} s: " + (
        "; ".join(f"{r.experiment.title}: {_ending(r)}" for r in results) if len(results) <= MAX_TITLES
        else f"{sum(not r.diverged and r.summary['early_stop'] is not None for r in results)} of {len(results)} "
             f"stopped early" + (f", {sum(r.diverged for r in results)} diverged" if any(r.diverged for r in results)
                                 else "")))
    return results


def _ending(result: Result) -> str:
    if result.diverged:
        return f"diverged at step {result.summary['diverged']['step']} (dropped from the group)"
    stop, epochs = result.summary["early_stop"], result.experiment.config.max_epochs
    return (f"early stopping at step {stop['step']} (epoch {stop['epoch']})" if stop
            else f"all {epochs} epoch{'' if epochs == 1 else 's'}")


def _longest_first(group: list[Experiment]) -> tuple:
    """Softmax groups before the (much shorter) logistic runs; bigger groups first."""
    return group[0].config.model != "softmax", -len(group)


def run_all(experiments: list[Experiment], runs_dir: Path, *, data_dir: str | None = None,
            gradient_check: bool = False, seed: int = 0, jobs: int = 1, progress: bool = True,
            stop_event=None, dataset: str = "mnist", classes: tuple[int, int] | None = None,
            groups: list[list[Experiment]] | None = None, followers: tuple[Follower, ...] = (),
            finished: dict[str, Result] | None = None,
            drop_diverged: bool = False) -> tuple[dict[str, Result], dict | None, dict]:
    """Run the gradient check (if asked), every experiment and the followers; ({name: Result}, task-1 record
    or None, {follower name: its output}).

    groups: the lock-step groups of the experiments (default: the report's, group_experiments). jobs > 1
    runs them in that many worker processes; the results do not depend on jobs. finished: results of runs
    trained before (a resume), which followers may need too. When stop_event is set, the runs in progress
    are dropped and only what has finished is returned. drop_diverged: see run_group.
    """
    stop_event = stop_event if stop_event is not None else threading.Event()
    if groups is None:  # the groups saved by an interrupted run as they were, the others as jobs says
        saved = saved_groups(runs_dir, experiments)
        rest = [e for e in experiments if not any(e in group for group in saved)]
        groups = saved + group_experiments(rest, jobs)
    groups = sorted(groups, key=_longest_first)
    total = len(groups) + int(gradient_check)
    jobs = effective_jobs(jobs, total + len(ready_followers(followers, finished or {})))
    first = 1 + int(gradient_check)
    tasks = [(CHECK, check_gradients, (data_dir,), {"seed": seed, "position": f"1/{total}", "progress": progress,
                                                    "dataset": dataset, "classes": classes})]
    tasks = tasks[:int(gradient_check)] + [
        (TRAIN, run_group, (group, runs_dir, data_dir),
         {"position": f"{i + first}/{total}", "progress": progress, "threads": max(1, (os.cpu_count() or 1) // jobs),
          "progress_bar": jobs == 1 and progress and sys.stderr.isatty(), "drop_diverged": drop_diverged})
        for i, group in enumerate(groups)]
    results, gradients, outputs = run_tasks(tasks, jobs, stop_event, followers, finished)
    return {e.name: results[e.name] for e in experiments if e.name in results}, gradients, outputs


def checkpoint_path(runs_dir: Path, experiments: list[Experiment]) -> Path:
    """Where the trainer state of lock-step runs is saved (one file; its manifest names the runs)."""
    return Path(runs_dir) / (checkpoint_name(experiments) + ".npz")


def remove_checkpoint(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def saved_groups(runs_dir: Path, experiments: list[Experiment]) -> list[list[Experiment]]:
    """The lock-step groups of experiments with a saved checkpoint, as they were saved: a resume with
    any --jobs continues them. A damaged checkpoint is refused (one line), never skipped."""
    by_name, groups, claimed = {e.name: e for e in experiments}, [], set()
    for path in sorted(Path(runs_dir).glob(".checkpoint-*")):
        if path.name.endswith((".tmp", ".old")):
            continue
        try:
            names = (checkpoint_members(path) if path.is_file()
                     else path.name.removeprefix(".checkpoint-").split("+"))
        except LinclassError as exc:
            raise LinclassError(f"{exc} (or delete {path} to train those runs from the start)") from None
        if names and all(n in by_name and n not in claimed for n in names):
            groups.append([by_name[n] for n in names])
            claimed.update(names)
    return groups
