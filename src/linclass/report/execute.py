"""Running the report's experiments: each lock-step group in this process or in worker processes.

Every experiment runs with one BLAS thread: the summation order of a matrix product depends on
the number of threads, so pinning it is what makes `--jobs 1` and `--jobs 2` give bit-identical
results. Parallelism comes from running independent experiments in separate processes instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from ..data import ImageDataset
from ..errors import LinclassError
from ..preprocess import Split
from ..runs import (RunConfig, held_out_metrics, load_data, load_run, make_split, run_state, save_run, summarize,
                    train_many)
from ..runs.store import load_trainer_state, save_trainer_state
from ..training import History, ProgressBar
from .gradient_check import check_gradients, say
from .plan import (BLAS_THREADS, MAX_TITLES, Experiment, checkpoint_name, effective_jobs, group_experiments,
                   group_titles)


@dataclass
class Result:
    """What a finished experiment hands back: its RUN record, history and final (restored) weights."""

    experiment: Experiment
    summary: dict
    history: History
    weights: np.ndarray
    wall_seconds: float
    group: tuple[str, ...] = ()  # the experiments trained in lock-step with it, itself included


_datasets: dict[tuple, ImageDataset] = {}
_splits: dict[tuple, Split] = {}


def _split_for(config: RunConfig, data_dir: str | None) -> Split:
    """The config's split, built once per process and shared by the runs that use the same data."""
    key = (config.dataset, config.protocol, config.model, config.classes, config.dtype, config.train_size,
           config.n_val)
    if key not in _splits:
        if (config.dataset, data_dir) not in _datasets:
            _datasets[config.dataset, data_dir] = load_data(config, data_dir)
        _splits[key] = make_split(config, _datasets[config.dataset, data_dir])
    return _splits[key]


def confusion(model, X: np.ndarray, y: np.ndarray, n_classes: int) -> list[list[int]]:
    """(K, K) counts of the model's predictions on X: row = true class, column = predicted class."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y, model.predict(X)), 1)
    return counts.tolist()


def run_group(experiments: list[Experiment], runs_dir: Path, data_dir: str | None = None, *,
              position: str = "", progress: bool = False, progress_bar: bool = False,
              stop_event=None, threads: int | None = None) -> list[Result] | None:
    """Train experiments that differ only in learning rate and L2 together (lock-step, one BLAS thread),
    and write each one's run folder runs_dir/<name>/. Each result is bit-identical to training it alone.

    Returns None, writing nothing, when stop_event ends the training early."""
    titles = group_titles(experiments)
    stop_event = stop_event if stop_event is not None else _worker_stop_event
    if stop_event is not None and stop_event.is_set():
        return None  # stopping: a group not yet started is left for --resume
    # An interrupted group leaves its trainer state here; a resumed reproduction continues from it.
    saved_state = Path(runs_dir) / checkpoint_name(experiments)
    resume_from = load_trainer_state(saved_state) if (saved_state / "checkpoint.json").is_file() else None
    say(progress, f"[{position}] {titles}: " + (f"resumed at step {resume_from['meta']['global_step']}"
                                                 if resume_from else "started"))
    with threadpool_limits(limits=BLAS_THREADS):
        split = _split_for(experiments[0].config, data_dir)
        bars = [[ProgressBar(experiments[0].title if len(experiments) == 1
                             else f"{len(experiments)} runs in lock-step")]] if progress_bar else [[]]
        models = train_many([e.config for e in experiments], split, resume_from=resume_from, stop_event=stop_event,
                            callbacks_per_model=bars + [[] for _ in experiments[1:]], threads=threads)
    if models[0].checkpoint_ is not None:
        save_trainer_state(saved_state, models[0].checkpoint_)
        say(progress, f"[{position}] interrupted at step {models[0].checkpoint_['meta']['global_step']}; "
                       "saved for --resume")
        return None
    results = [_finish(experiment, model, split, runs_dir, experiments) for experiment, model in zip(experiments, models)]
    shutil.rmtree(saved_state, ignore_errors=True)
    say(progress, f"[{position}] done in {models[0].wall_seconds_:.1f} s: " + (
        "; ".join(f"{r.experiment.title}: {_ending(r)}" for r in results) if len(results) <= MAX_TITLES
        else f"{sum(r.summary['early_stop'] is not None for r in results)} of {len(results)} stopped early"))
    return results


def _ending(result: Result) -> str:
    stop, epochs = result.summary["early_stop"], result.experiment.config.max_epochs
    return (f"early stopping at step {stop['step']} (epoch {stop['epoch']})" if stop
            else f"all {epochs} epoch{'' if epochs == 1 else 's'}")


def _finish(experiment: Experiment, model, split: Split, runs_dir: Path, group: list[Experiment]) -> Result:
    steps_per_epoch = len(split.y_train) // experiment.config.batch_size
    validation_steps, _ = model.history_.series("val_loss")
    _, batch_losses = model.history_.series("train_loss_per_step")
    last_epoch = batch_losses[-steps_per_epoch:]
    summary = summarize(model)
    summary.update({
        "run_dir": f"runs/{experiment.name}",
        "n_train_images": len(split.y_train),
        "n_val_images": len(split.y_val),
        "steps_per_epoch": steps_per_epoch,
        "validate_every": int(np.min(np.diff(validation_steps))) if len(validation_steps) > 1 else None,
        "last_validation_step": int(validation_steps[-1]) if len(validation_steps) else None,
        "last_epoch_batch_loss": {"mean": float(last_epoch.mean()), "std": float(last_epoch.std())},
        "config": experiment.config.to_json(),
    })
    if experiment.config.model == "softmax":
        summary["val_confusion"] = confusion(model, split.X_val, split.y_val, split.n_classes)
    test = held_out_metrics(model, split)  # the only use of the test set, after training
    if test is not None:
        summary["test"] = test
    folder = Path(runs_dir) / experiment.name
    folder.mkdir(parents=True, exist_ok=True)
    save_run(folder, experiment.config, model,
             {**summary, "wall_seconds": model.wall_seconds_, "lock_step_group": [e.name for e in group]})
    return Result(experiment, summary, model.history_, model.weights_, model.wall_seconds_,
                  tuple(e.name for e in group))


def _longest_first(group: list[Experiment]) -> tuple:
    """Softmax groups before the (much shorter) logistic runs; bigger groups first."""
    return group[0].config.model != "softmax", -len(group)


def _call(task: tuple) -> tuple:
    """(name, function(*args, **kwargs)) for a worker process."""
    name, function, args, kwargs = task
    return name, function(*args, **kwargs)


def run_all(experiments: list[Experiment], runs_dir: Path, *, data_dir: str | None = None,
            gradient_check: bool = False, seed: int = 0, jobs: int = 1, progress: bool = True,
            stop_event=None, dataset: str = "mnist", classes: tuple[int, int] | None = None,
            groups: list[list[Experiment]] | None = None) -> tuple[dict[str, Result], dict | None]:
    """Run the gradient check (if asked) and every experiment; ({name: Result}, task-1 record or None).

    groups: the lock-step groups of the experiments (default: the report's, group_experiments). jobs > 1
    runs them in that many worker processes; the results do not depend on jobs. When stop_event is
    set, the runs in progress are dropped and only the finished ones are returned.
    """
    stop_event = stop_event if stop_event is not None else threading.Event()
    groups = sorted(group_experiments(experiments, jobs) if groups is None else groups, key=_longest_first)
    total = len(groups) + int(gradient_check)
    jobs = effective_jobs(jobs, total)
    first = 1 + int(gradient_check)
    tasks = [(None, check_gradients, (data_dir,), {"seed": seed, "position": f"1/{total}", "progress": progress,
                                                   "dataset": dataset, "classes": classes})]
    tasks = tasks[:int(gradient_check)] + [
        ("group", run_group, (group, runs_dir, data_dir),
         {"position": f"{i + first}/{total}", "progress": progress, "threads": max(1, (os.cpu_count() or 1) // jobs),
          "progress_bar": jobs == 1 and progress and sys.stderr.isatty()})
        for i, group in enumerate(groups)]
    if jobs == 1:
        def outputs():
            for name, function, args, kwargs in tasks:
                if stop_event.is_set():
                    return
                kwargs = {**kwargs, "stop_event": stop_event} if name else kwargs
                yield name, function(*args, **kwargs)
        return _collect(outputs(), experiments)
    # spawn, not fork: workers start clean (no inherited BLAS or tqdm threads) on every platform.
    # Workers ignore Ctrl-C; this process hears it and passes it on through a shared event, so
    # each worker ends its current step and saves its state; leaving the block ends the workers.
    context = get_context("spawn")
    worker_stop = context.Event()
    with context.Pool(jobs, initializer=_init_worker, initargs=(worker_stop,)) as pool:
        pending = pool.imap_unordered(_call, tasks)
        n_groups = sum(1 for name, *_ in tasks if name is not None)
        return _collect(_until_stopped(pending, len(tasks), n_groups, stop_event, worker_stop), experiments)


_worker_stop_event = None


def _init_worker(stop_event) -> None:
    global _worker_stop_event
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_stop_event = stop_event


def _until_stopped(pending, count: int, n_groups: int, stop_event, worker_stop, grace_seconds: float = 5.0):
    """Yield the pool's (name, result) pairs as they come. Once stop_event is set, tell the workers
    to stop and wait (at most grace_seconds) only for the training groups, which save their state;
    the gradient check is not waited for: a resumed reproduction runs it again."""
    from multiprocessing import TimeoutError as PoolTimeout

    received, groups_received, deadline = 0, 0, None
    while received < count:
        if stop_event.is_set() and deadline is None:
            worker_stop.set()
            deadline = time.monotonic() + grace_seconds
        if deadline is not None and (groups_received == n_groups or time.monotonic() > deadline):
            return
        try:
            name, result = pending.next(timeout=0.05)
        except PoolTimeout:
            continue
        received += 1
        groups_received += name is not None
        yield name, result


def load_finished(runs_dir: Path, experiments: list[Experiment]) -> dict[str, Result]:
    """The experiments whose run folders under runs_dir are complete, with their results."""
    finished = {}
    for experiment in experiments:
        folder = Path(runs_dir) / experiment.name
        if run_state(folder) != "complete":
            continue
        config, model, metrics = load_run(folder)
        if config != experiment.config:
            raise LinclassError(f"{folder} was trained with other settings; start again without --resume.")
        wall_seconds = metrics.pop("wall_seconds")
        metrics["config"] = config.to_json()  # a run folder from before the renaming holds the old names
        finished[experiment.name] = Result(experiment, metrics, model.history_, model.weights_, wall_seconds,
                                           tuple(metrics.pop("lock_step_group", (experiment.name,))))
    return finished


def _collect(outputs, experiments: list[Experiment]) -> tuple[dict[str, Result], dict | None]:
    results, gradients = {}, None
    for name, output in outputs:
        if name is None:
            gradients = output
        elif output is not None:
            results.update((result.experiment.name, result) for result in output)
    return {e.name: results[e.name] for e in experiments if e.name in results}, gradients
