"""Hyper-parameter sweeps: a grid of learning rates x λ x seeds, trained in lock-step groups."""

from .command import sweep
from .grid import Grid, lock_step_groups, plan_runs, run_name

__all__ = ["Grid", "lock_step_groups", "plan_runs", "run_name", "sweep"]
