"""A sweep's plan: learning rates x λ x seeds over one base RunConfig, the runs, and their lock-step groups.

Runs that share a batch order (everything but the learning rate and λ equal, so the same seed,
batch size and shuffling) form one family and train in lock-step; each ends bit for bit where it
would alone (Trainer.fit_many).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .._validation import check_grid, check_int
from ..report.plan import Experiment
from ..runs import RunConfig

# The fields the grid sets on every run; the base config gives all the others.
GRID_FIELDS = ("learning_rate", "l2_strength", "seed")


@dataclass(frozen=True)
class Grid:
    """The values of a sweep, each list in the order given: learning rates (> 0), λ (>= 0), seeds (>= 0)."""

    learning_rates: tuple[float, ...]
    l2_strengths: tuple[float, ...]
    seeds: tuple[int, ...] = (0,)

    def checked(self) -> "Grid":
        """The grid with every list checked (LinclassError naming the option): non-empty, numbers, no repeats."""
        return Grid(check_grid("--lr", self.learning_rates, minimum=0.0, inclusive=False),
                    check_grid("--l2", self.l2_strengths, minimum=0.0, inclusive=True),
                    check_grid("--seeds", self.seeds, minimum=0, inclusive=True, integer=True))

    @property
    def size(self) -> int:
        return len(self.learning_rates) * len(self.l2_strengths) * len(self.seeds)

    def to_json(self) -> dict:
        return {"learning_rates": list(self.learning_rates), "l2_strengths": list(self.l2_strengths),
                "seeds": list(self.seeds)}

    @classmethod
    def from_json(cls, data: dict) -> "Grid":
        return cls(tuple(data["learning_rates"]), tuple(data["l2_strengths"]), tuple(data["seeds"]))


def base_to_json(base: RunConfig) -> dict:
    """The base config as config.json holds it, without the fields the grid sets."""
    data = base.to_json()
    for name in GRID_FIELDS:
        data.pop(name, None)
    return data


def run_name(learning_rate: float, l2_strength: float, seed: int) -> str:
    """The run folder's name: exact values (repr), so two different values never share a folder."""
    return f"lr{learning_rate!r}_lambda{l2_strength!r}_seed{seed}"


def plan_runs(base: RunConfig, grid: Grid) -> list[Experiment]:
    """One run per (learning rate, λ, seed), learning rate slowest, then λ, then seed; configs resolved."""
    runs = []
    for rate in grid.learning_rates:
        for strength in grid.l2_strengths:
            for seed in grid.seeds:
                config = replace(base, learning_rate=rate, l2_strength=strength, seed=seed).resolved()
                runs.append(Experiment(run_name(rate, strength, seed), f"lr {rate:g}, λ {strength:g}, seed {seed}",
                                       config, ("sweep",)))
    return runs


def lock_step_groups(runs: list[Experiment], jobs: int) -> list[list[Experiment]]:
    """Runs sharing a batch order form one family, trained in lock-step. When there are fewer families
    than jobs, each family is split (alternately, by learning rate then λ) so that every process has work."""
    check_int("jobs", jobs)
    families: dict[RunConfig, list[Experiment]] = {}
    for run in runs:
        families.setdefault(replace(run.config, learning_rate=1.0, l2_strength=0.0), []).append(run)
    groups = []
    for family in families.values():
        family = sorted(family, key=lambda run: (run.config.learning_rate, run.config.l2_strength))
        parts = max(1, min(len(family), jobs // len(families)))
        groups.extend(family[i::parts] for i in range(parts))
    return groups
