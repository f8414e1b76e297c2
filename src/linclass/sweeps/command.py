"""`linclass sweep`: train every (learning rate, λ, seed) of a grid in lock-step groups, then write
sweep.json, sweep.csv, the heat map and each run's folder OUT/runs/<name>/ into one folder.

The groups run through report.execute (worker processes, Ctrl-C, saved trainer states), exactly as
the report's runs do; an interrupted sweep is completed in place by resume=True. A run whose training
diverges leaves its group (the others train on, each as alone) and is recorded as diverged.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from .._io import incomplete_status, read_incomplete_settings, resume_command, write_status
from .._validation import check_int
from ..errors import LinclassError
from ..report.execute import remove_checkpoint, run_all
from ..report.finish import load_finished
from ..report.plan import effective_jobs
from ..runs import RunConfig, output_folder
from ..training import stop_on_signals
from .figure import write_heatmap
from .grid import Grid, base_to_json, lock_step_groups, plan_runs
from .results import EveryCellDiverged, build_summary, write_tables


def sweep(out: str | Path, base: RunConfig, grid: Grid, *, jobs: int = 1, force: bool = False,
          data_dir: str | None = None, progress: bool = True, resume: bool = False) -> dict | None:
    """Train base with every learning rate x λ x seed of grid into OUT; returns the summary (sweep.json).

    Returns None when SIGINT/SIGTERM stopped it: OUT then holds the finished runs and status.json
    marks it incomplete; resume=True continues it with the settings it was started with (base and
    grid are then ignored, jobs is not: it only says how many processes to use). When every cell
    diverged, LinclassError: nothing is written (a resumed sweep's folder stays incomplete).
    """
    started = time.perf_counter()
    out = Path(out)
    check_int("jobs", jobs)
    if resume:
        settings = read_incomplete_settings(out, "sweep")
        base, grid = RunConfig.from_json(settings["base"]), Grid.from_json(settings["grid"])
    grid = grid.checked()
    runs = plan_runs(base, grid)  # resolves (checks) every run's config
    group_jobs = settings["group_jobs"] if resume else jobs
    settings = {"base": base_to_json(runs[0].config), "grid": grid.to_json(), "group_jobs": group_jobs}
    # The groups come from the whole plan, so a resumed sweep finds the saved state of its interrupted groups.
    groups = lock_step_groups(runs, group_jobs)
    target = (contextlib.nullcontext(out) if resume
              else output_folder(out, force=force, data_dir=data_dir, keep_on_interrupt=True))
    try:
        return _sweep_into(target, out, runs, groups, grid, settings, jobs=jobs, data_dir=data_dir,
                           progress=progress, resume=resume, started=started)
    except KeyboardInterrupt:  # a second Ctrl-C: what was saved is kept, as after the first
        if incomplete_status(out, "sweep") is None:
            raise  # nothing resumable was written
        return None


def _sweep_into(target, out: Path, runs, groups, grid, settings, *, jobs, data_dir, progress, resume,
                started) -> dict | None:
    """sweep()'s work inside its output folder (target); None when a signal stopped it."""
    with target as folder, stop_on_signals() as stop_event:
        runs_dir = folder / "runs"
        finished = load_finished(runs_dir, runs) if resume else {}
        remaining = [[run for run in group if run.name not in finished] for group in groups]
        remaining = [group for group in remaining if group]
        n_jobs = effective_jobs(jobs, len(remaining))
        write_status(folder, "sweep", "incomplete", settings=settings, resume=resume_command("sweep", out, jobs, data_dir))
        if progress:
            print(f"linclass sweep: {grid.size} runs ({len(grid.learning_rates)} learning rates x "
                  f"{len(grid.l2_strengths)} λ x {len(grid.seeds)} seeds)"
                  f"{f', {len(finished)} already finished' if finished else ''}, {len(remaining)} lock-step "
                  f"group(s), {n_jobs} process(es), into {out}/", file=sys.stderr, flush=True)
        results, _, _ = run_all([run for group in remaining for run in group], runs_dir, data_dir=data_dir,
                                jobs=n_jobs, progress=progress, stop_event=stop_event, groups=remaining,
                                drop_diverged=True)
        if stop_event.is_set() or sum(map(len, remaining)) > len(results):
            return None
        results = {run.name: finished.get(run.name) or results[run.name] for run in runs}
        try:
            summary = build_summary(results, grid, settings, figures=[], jobs=n_jobs,
                                    groups=[[run.name for run in group] for group in groups],
                                    wall_seconds=time.perf_counter() - started)
        except EveryCellDiverged as exc:  # a fresh sweep's folder is discarded as the error leaves the block
            raise LinclassError(f"{exc} " + (f"{out} keeps its runs and stays incomplete." if resume
                                             else f"Nothing was written to {out}.")) from None
        summary["figures"] = write_heatmap(folder / "figures", summary)
        summary["wall_seconds"] = time.perf_counter() - started
        write_tables(folder, summary)
        for stale in runs_dir.glob(".checkpoint-*"):
            remove_checkpoint(stale)
        write_status(folder, "sweep", "complete", settings=settings)
    return summary


