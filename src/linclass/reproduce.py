"""The course report's experiments: the plan, the task 1 gradient check, and running them all.

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
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from .callbacks import History, ProgressBar
from .data import Mnist, load_mnist
from .errors import LinclassError
from .experiment import RunConfig, make_split, summarize, train_many
from .gradcheck import max_gradient_difference
from .losses import logistic_loss_and_grad, softmax_loss_and_grad
from .preprocess import Split, binary_split, one_hot, ten_class_split
from .runs import load_run, load_trainer_state, run_state, save_run, save_trainer_state

TASKS = ("task1", "task2", "task3", "task4")
LAMBDAS = (1.0, 0.1, 0.01, 0.001)
BLAS_THREADS = 1
GRADCHECK = {"epsilon": 1e-3, "l2_strength": 0.1, "n_images": 20, "weight_scale": 0.01}


@dataclass(frozen=True)
class Experiment:
    """One training run of the report: its folder name under runs/, a title, its resolved config."""

    name: str
    title: str
    config: RunConfig
    tasks: tuple[str, ...]  # the tasks whose answers use this run


@dataclass
class Result:
    """What a finished experiment hands back: its RUN record, history and final (restored) weights."""

    experiment: Experiment
    summary: dict
    history: History
    weights: np.ndarray
    wall_seconds: float
    group: tuple[str, ...] = ()  # the experiments trained in lock-step with it, itself included


def parse_tasks(text: str | None) -> tuple[str, ...]:
    """'task2,task4' -> ('task2', 'task4') in report order; None means every task."""
    if text is None:
        return TASKS
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in TASKS]
    if not names or unknown:
        raise LinclassError(f"--only takes a comma-separated list of {', '.join(TASKS)}; got {text!r}.")
    return tuple(task for task in TASKS if task in names)


def plan_experiments(tasks: tuple[str, ...], *, seed: int = 0, dtype: str = "float64",
                     max_epochs: int | None = None) -> list[Experiment]:
    """The training runs the given tasks need, in report order (task 4b reuses task 3's lambda-0 run)."""
    def config(**values) -> RunConfig:
        resolved = RunConfig(seed=seed, dtype=dtype, **values).resolved()
        if max_epochs is not None and resolved.epochs > max_epochs:
            resolved = replace(resolved, epochs=max_epochs)
        return resolved

    plan = []
    if "task2" in tasks:
        plan.append(Experiment("task2_logistic_no_shuffle", "task 2 logistic, no shuffle",
                               config(model="logistic", shuffle=False), ("task2",)))
        plan.append(Experiment("task2_logistic_shuffle", "task 2 logistic, shuffle",
                               config(model="logistic", shuffle=True), ("task2",)))
    if "task3" in tasks or "task4" in tasks:
        users = tuple(task for task in ("task3", "task4") if task in tasks)
        plan.append(Experiment("task3_softmax_lambda_0", "task 3 softmax, lambda 0",
                               config(model="softmax", l2=0.0), users))
    if "task4" in tasks:
        for l2 in LAMBDAS:
            plan.append(Experiment(f"task4_softmax_lambda_{l2:g}", f"task 4 softmax, lambda {l2:g}",
                                   config(model="softmax", l2=l2), ("task4",)))
    return plan


# ---------------------------------------------------------------- one experiment (in any process)

_mnist: dict[str, Mnist] = {}
_splits: dict[tuple, Split] = {}


def _split_for(config: RunConfig, data_dir: str | None) -> Split:
    """The config's split, built once per process and shared by the runs that use the same data."""
    key = (config.model, config.digits, config.dtype, config.n_train, config.n_val)
    if key not in _splits:
        if data_dir not in _mnist:
            _mnist[data_dir] = load_mnist(data_dir)
        _splits[key] = make_split(config, _mnist[data_dir])
    return _splits[key]


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def run_group(experiments: list[Experiment], runs_dir: Path, data_dir: str | None = None, *,
              position: str = "", progress: bool = False, progress_bar: bool = False,
              stop_event=None, threads: int | None = None) -> list[Result] | None:
    """Train experiments that differ only in L2 together (lock-step, one BLAS thread), and write
    each one's run folder runs_dir/<name>/. Each result is bit-identical to training it alone.

    Returns None, writing nothing, when stop_event ends the training early."""
    from threadpoolctl import threadpool_limits

    titles = ", ".join(e.title for e in experiments)
    stop_event = stop_event if stop_event is not None else _worker_stop_event
    if stop_event is not None and stop_event.is_set():
        return None  # stopping: a group not yet started is left for --resume
    # An interrupted group leaves its trainer state here; a resumed reproduction continues from it.
    saved_state = Path(runs_dir) / (".checkpoint-" + "+".join(e.name for e in experiments))
    resume_from = load_trainer_state(saved_state) if (saved_state / "checkpoint.json").is_file() else None
    _say(progress, f"[{position}] {titles}: " + (f"resumed at step {resume_from['meta']['global_step']}"
                                                 if resume_from else "started"))
    with threadpool_limits(limits=BLAS_THREADS):
        split = _split_for(experiments[0].config, data_dir)
        bars = [[ProgressBar(experiments[0].title if len(experiments) == 1
                             else f"{len(experiments)} runs in lock-step")]] if progress_bar else [[]]
        models = train_many([e.config for e in experiments], split, resume_from=resume_from, stop_event=stop_event,
                            callbacks_per_model=bars + [[] for _ in experiments[1:]], threads=threads)
    if models[0].checkpoint_ is not None:
        save_trainer_state(saved_state, models[0].checkpoint_)
        _say(progress, f"[{position}] interrupted at step {models[0].checkpoint_['meta']['global_step']}; "
                       "saved for --resume")
        return None
    results = [_finish(experiment, model, split, runs_dir, experiments) for experiment, model in zip(experiments, models)]
    shutil.rmtree(saved_state, ignore_errors=True)
    _say(progress, f"[{position}] done in {models[0].wall_seconds_:.1f} s: " + "; ".join(
        f"{r.experiment.title}: {_ending(r)}" for r in results))
    return results


def _ending(result: Result) -> str:
    stop, epochs = result.summary["early_stop"], result.experiment.config.epochs
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
    folder = Path(runs_dir) / experiment.name
    folder.mkdir(parents=True, exist_ok=True)
    save_run(folder, experiment.config, model,
             {**summary, "wall_seconds": model.wall_seconds_, "lock_step_group": [e.name for e in group]})
    return Result(experiment, summary, model.history_, model.weights_, model.wall_seconds_,
                  tuple(e.name for e in group))


def group_experiments(experiments: list[Experiment], jobs: int) -> list[list[Experiment]]:
    """Experiments that differ only in L2 form lock-step groups, split into at most `jobs` parts
    (alternating, weakest penalty first, so the long runs spread over the processes)."""
    families: dict[RunConfig, list[Experiment]] = {}
    for experiment in experiments:
        families.setdefault(replace(experiment.config, l2=0.0), []).append(experiment)
    groups = []
    for family in families.values():
        family = sorted(family, key=lambda e: e.config.l2)
        parts = min(jobs, len(family))
        groups.extend(family[i::parts] for i in range(parts))
    return groups


def check_gradients(data_dir: str | None = None, *, seed: int = 0, position: str = "",
                    progress: bool = False) -> dict:
    """Task 1: largest |analytic - central difference| gradient entry of both models on real images.

    Uses the first n_images training images of each model's split in float64, weights drawn from
    N(0, weight_scale^2) by default_rng(seed), with l2_strength 0 and GRADCHECK['l2_strength'].
    """
    from threadpoolctl import threadpool_limits

    _say(progress, f"[{position}] task 1 gradient check: started")
    started = time.perf_counter()
    epsilon, l2, n = GRADCHECK["epsilon"], GRADCHECK["l2_strength"], GRADCHECK["n_images"]
    mnist = load_mnist(data_dir)
    binary = binary_split(mnist, n_train=5 * n, n_val=5 * n)  # about a fifth of MNIST is a 2 or a 3
    ten = ten_class_split(mnist, n_train=n, n_val=1)
    X_binary, y_binary = binary.X_train[:n], binary.y_train[:n]
    X_ten, Y_ten = ten.X_train[:n], one_hot(ten.y_train[:n], 10)
    rng = np.random.default_rng(seed)
    W_binary = rng.normal(scale=GRADCHECK["weight_scale"], size=(X_binary.shape[1], 1))
    W_ten = rng.normal(scale=GRADCHECK["weight_scale"], size=(X_ten.shape[1], 10))
    result = {}
    with threadpool_limits(limits=BLAS_THREADS):
        for name, loss_and_grad, W, X, T in (("logistic", logistic_loss_and_grad, W_binary, X_binary, y_binary),
                                             ("softmax", softmax_loss_and_grad, W_ten, X_ten, Y_ten)):
            plain = max_gradient_difference(lambda w: loss_and_grad(w, X, T, 0.0), W, epsilon)
            with_l2 = max_gradient_difference(lambda w: loss_and_grad(w, X, T, l2), W, epsilon)
            result[name] = {"max_abs_diff": plain, "l2_max_abs_diff": with_l2, "n_weights": W.size,
                            "passed": bool(max(plain, with_l2) < epsilon**2)}
    result.update({**GRADCHECK, "threshold": epsilon**2, "dtype": "float64", "split": "training"})
    seconds = time.perf_counter() - started
    _say(progress, f"[{position}] task 1 gradient check: done in {seconds:.1f} s")
    return {"task1": result, "wall_seconds": seconds}


# ---------------------------------------------------------------- the whole plan

def _longest_first(group: list[Experiment]) -> tuple:
    """Softmax groups before the (much shorter) logistic runs; bigger groups first."""
    return group[0].config.model != "softmax", -len(group)


def _call(task: tuple) -> tuple:
    """(name, function(*args, **kwargs)) for a worker process."""
    name, function, args, kwargs = task
    return name, function(*args, **kwargs)


def effective_jobs(requested: int, n_experiments: int) -> int:
    """Worker processes to use: at most one per experiment and one per CPU core (BLAS uses one thread)."""
    return max(1, min(requested, n_experiments, os.cpu_count() or 1))


def run_all(experiments: list[Experiment], runs_dir: Path, *, data_dir: str | None = None,
            gradient_check: bool = False, seed: int = 0, jobs: int = 1, progress: bool = True,
            stop_event=None) -> tuple[dict[str, Result], dict | None]:
    """Run the gradient check (if asked) and every experiment; ({name: Result}, task-1 record or None).

    jobs > 1 runs them in that many worker processes; the results do not depend on jobs. When
    stop_event is set, the runs in progress are dropped and only the finished ones are returned.
    """
    stop_event = stop_event if stop_event is not None else threading.Event()
    groups = sorted(group_experiments(experiments, jobs), key=_longest_first)
    total = len(groups) + int(gradient_check)
    jobs = effective_jobs(jobs, total)
    first = 1 + int(gradient_check)
    tasks = [(None, check_gradients, (data_dir,), {"seed": seed, "position": f"1/{total}", "progress": progress})]
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
