"""`linclass reproduce`: run the course report's experiments, then write summary.json, the figures,
report.md and report.html into one folder, which appears only once everything is written.

The summary is built first, from the runs; the report's text is then written from the summary
alone (writeup.py), so every number in the text can be found in summary.json.
"""

from __future__ import annotations

import contextlib
import json
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from . import findings, plots, writeup
from .errors import LinclassError
from .experiment import DTYPES
from .reproduce import (BLAS_THREADS, LAMBDAS, TASKS, Result, effective_jobs, group_experiments,
                        load_finished, plan_experiments, run_all)
from .runs import atomic_dir, atomic_file, write_json
from .checkpoint import stop_on_signals

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
        summary["task2"] = _task2(results, figures)
    if "task3" in tasks:
        summary["task3"] = _task3(results, figures)
    if "task4" in tasks:
        summary["task4"] = _task4(results, figures)
    summary["environment"] = _environment(
        tasks=tasks, seed=seed, dtype=dtype, jobs=jobs, max_epochs=max_epochs, results=results,
        gradient_seconds=gradients["wall_seconds"] if gradients else None,
        wall_seconds=time.perf_counter() - started)
    write_json(folder / "summary.json", summary)
    for name, text in (("report.md", writeup.markdown(summary)), ("report.html", writeup.html(summary, folder))):
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


def _run(result: Result, **extra) -> dict:
    return {**result.summary, **extra}


def _stops(run: dict) -> dict:
    return {"early_stop_step": (run["early_stop"] or {}).get("step"), "best_step": run["best_step"]}


def _task2(results: dict[str, Result], figures: Path) -> dict:
    plain, shuffled = results["task2_logistic_no_shuffle"], results["task2_logistic_shuffle"]
    no_shuffle, shuffle = _run(plain), _run(shuffled)
    steps_per_epoch = no_shuffle["steps_per_epoch"]
    spikes = findings.shuffle_spikes(plain.history, shuffled.history, steps_per_epoch,
                                     no_shuffle["validate_every"] or 1)
    histories = {False: plain.history, True: shuffled.history}
    marks = {metric: {False: spikes[metric]["largest_no_shuffle"], True: spikes[metric]["largest_shuffle"]}
             for metric in ("train_loss", "val_accuracy")}
    title = "logistic regression, 2s vs 3s"
    paths = {
        "loss": plots.save_figure(plots.loss_figure(
            plain.history, f"Task 2b: loss of {title}, no shuffling", ylim=(0.0, 0.2), **_stops(no_shuffle)),
            figures, "task2b_loss"),
        "accuracy": plots.save_figure(plots.accuracy_figure(
            plain.history, f"Task 2c: accuracy of {title}, no shuffling", ylim=(0.93, 0.99),
            **_stops(no_shuffle)), figures, "task2c_accuracy"),
        "shuffle_loss": plots.save_figure(plots.shuffle_loss_figure(
            histories, f"Task 2e: training loss without and with shuffling ({title})",
            steps_per_epoch=steps_per_epoch, ylim=(0.0, 0.2), spikes=marks["train_loss"]),
            figures, "task2e_shuffle_loss"),
        "shuffle_accuracy": plots.save_figure(plots.shuffle_accuracy_figure(
            histories, f"Task 2e: validation accuracy without and with shuffling\n({title})",
            ylim=(0.93, 0.99), spikes=marks["val_accuracy"]), figures, "task2e_shuffle_accuracy"),
    }
    return {"no_shuffle": no_shuffle, "shuffle": shuffle, "spikes": spikes,
            "batch_loss_epoch_correlation": {
                "no_shuffle": findings.batch_loss_repeat(plain.history, steps_per_epoch),
                "shuffle": findings.batch_loss_repeat(shuffled.history, steps_per_epoch)},
            "figures": paths}


def _task3(results: dict[str, Result], figures: Path) -> dict:
    result = results["task3_softmax_lambda_0"]
    run = _run(result)
    title = "softmax regression, 10 digits"
    accuracies = [result.history.series(name)[1] for name in ("train_accuracy", "val_accuracy")]
    paths = {
        "loss": plots.save_figure(plots.loss_figure(
            result.history, f"Task 3b: loss of {title}", ylim=(0.2, 0.6), **_stops(run)), figures, "task3b_loss"),
        "accuracy": plots.save_figure(plots.accuracy_figure(
            result.history, f"Task 3c: accuracy of {title}", ylim=findings.zoom_limits(accuracies),
            **_stops(run)), figures, "task3c_accuracy"),
    }
    return {**run, "figures": paths}


def _task4(results: dict[str, Result], figures: Path) -> dict:
    reference = results["task3_softmax_lambda_0"]
    runs = {l2: results[f"task4_softmax_lambda_{l2:g}"] for l2 in LAMBDAS}
    records = [_run(result, **{"lambda": l2}) for l2, result in runs.items()]
    lambda0 = _run(reference, **{"lambda": 0.0})
    strongest = runs[max(LAMBDAS)]
    weights = {"lambda_0": reference.weights, f"lambda_{max(LAMBDAS):g}": strongest.weights}
    paths = {
        "weights": plots.save_figure(plots.weights_figure(
            [("λ = 0 (no L2)", reference.weights), (f"λ = {max(LAMBDAS):g}", strongest.weights)],
            f"Task 4b: softmax weights of each digit as 28x28 images (bias left out), "
            f"λ = 0 (top) and λ = {max(LAMBDAS):g} (bottom)\nred: positive weight, blue: negative; "
            "one colour scale per row"), figures, "task4b_weights"),
        "val_accuracy": plots.save_figure(plots.lambda_accuracy_figure(
            {l2: result.history for l2, result in runs.items()},
            "Task 4c: validation accuracy of softmax regression for four L2 strengths λ",
            ylim=findings.zoom_limits([r.history.series("val_accuracy")[1] for r in runs.values()]),
            early_stops={r["lambda"]: (r["early_stop"] or {}).get("step") for r in records}),
            figures, "task4c_val_accuracy"),
        "weight_norm": plots.save_figure(plots.norm_figure(
            list(LAMBDAS), [r["weight_norm"] for r in records], [r["weight_norm_squared"] for r in records],
            "Task 4e: size of the softmax weights after training (restored best weights) against λ",
            reference=(lambda0["weight_norm"], lambda0["weight_norm_squared"])), figures, "task4e_weight_norm"),
    }
    return {"lambdas": list(LAMBDAS), "runs": records, "lambda0": lambda0,
            "lambda0_vs_1_weights_figure": paths["weights"],
            "weight_images": {name: {"max_abs_weight": float(np.abs(W[:-1]).max()),
                                     "detail_share": findings.weight_detail(W)}
                              for name, W in weights.items()},
            "figures": paths}


def _environment(*, tasks, seed, dtype, jobs, max_epochs, results, gradient_seconds, wall_seconds) -> dict:
    import matplotlib
    from threadpoolctl import threadpool_info

    from . import __version__

    blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture') or 'generic'})"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    command = f"linclass reproduce --seed {seed} --dtype {dtype}"
    if tuple(tasks) != TASKS:
        command += f" --only {','.join(tasks)}"
    if max_epochs is not None:
        command += f" --max-epochs-override {max_epochs}"
    return {"python": platform.python_version(), "numpy": np.__version__, "matplotlib": matplotlib.__version__,
            "linclass": __version__, "platform": platform.platform(), "blas": ", ".join(blas) or "unknown",
            "seed": seed, "dtype": dtype, "tasks": list(tasks), "jobs": jobs,
            "blas_threads_per_experiment": BLAS_THREADS, "max_epochs_override": max_epochs,
            "command": command, "wall_seconds": wall_seconds, "gradient_check_seconds": gradient_seconds,
            "experiment_seconds": {name: r.wall_seconds for name, r in results.items()},
            "lock_step_groups": sorted({r.group for r in results.values()})}
