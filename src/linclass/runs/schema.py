"""The schema of every JSON file of a run folder, checked once at load: config.json, history.json,
metrics.json, and the trainer state of a checkpoint from before issue 10. Each check raises a one-line
LinclassError naming the file and the first thing wrong; nothing read back is trusted before it."""

from __future__ import annotations

import math

import numpy as np

from ..errors import LinclassError
from ..training import METRIC_NAMES, Divergence, History
from .config import RunConfig

MAX_STEP = 10**9


class Invalid(Exception):
    """One thing wrong in a file; where() turns it into a LinclassError naming the file."""


def fail_in(path, exc: Exception) -> LinclassError:
    return LinclassError(f"{path} is damaged or was edited: {exc}; write it again (train the run again, "
                         "or start without --resume).")


def need(condition, what: str) -> None:
    if not condition:
        raise Invalid(what)


def is_int(value, low: int = 0, high: int = MAX_STEP) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def is_number(value, low: float = -math.inf, high: float = math.inf) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and low <= value <= high)


def check_metrics(value, where: str, optional: bool = True) -> None:
    """None (when optional) or {metric name: finite number}, accuracies in [0, 1], losses >= 0."""
    if value is None and optional:
        return
    need(isinstance(value, dict) and value, f"{where} must be an object of metrics")
    for name, number in value.items():
        need(name in METRIC_NAMES, f"{where} has an unknown metric {name!r}")
        low, high = (0.0, 1.0) if name.endswith("accuracy") else (0.0, math.inf)
        need(is_number(number, low, high), f"{where}.{name} must be a number in [{low:g}, {high:g}]")


def parse_config(data, path) -> RunConfig:
    """config.json's RunConfig (resolved: every field checked)."""
    try:
        need(isinstance(data, dict), "config.json must hold an object")
        return RunConfig.from_json(data).resolved()
    except (Invalid, LinclassError, TypeError, ValueError, KeyError) as exc:
        raise fail_in(path, exc) from None


def parse_history(data, path, steps: int | None = None) -> History:
    """history.json's History: every step 0..steps-1 with a finite loss, validations at known steps."""
    try:
        need(isinstance(data, dict) and set(data) == {"train_loss_per_step", "validation"},
             "a history holds exactly train_loss_per_step and validation")
        losses, validation = data["train_loss_per_step"], data["validation"]
        need(isinstance(losses, dict) and isinstance(validation, dict), "both parts must be objects")
        keys = list(losses)
        need(keys == [str(step) for step in range(len(keys))], "train_loss_per_step must list steps 0, 1, 2, ...")
        need(steps is None or len(keys) == steps, f"train_loss_per_step has {len(keys)} steps, expected {steps}")
        need(all(is_number(loss, 0.0) for loss in losses.values()), "every step's loss must be a number >= 0")
        for step, logs in validation.items():
            need(step.isdigit() and step.isascii() and int(step) < max(len(keys), 1),
                 f"validation step {step!r} is not a step of the run")
            check_metrics(logs, f"validation[{step}]", optional=False)
            need(set(METRIC_NAMES) <= set(logs), f"validation[{step}] lacks some of {', '.join(METRIC_NAMES)}")
        return History.from_json(data)
    except (Invalid, LinclassError, TypeError, ValueError, KeyError, AttributeError) as exc:
        raise fail_in(path, exc) from None


def lane_steps(lane, global_step: int) -> int:
    """The steps a checkpoint lane's history holds: up to its early stop (inclusive) or up to the step that
    diverged (exclusive) when it left its lock-step group, else every step the loop ran (global_step)."""
    need(isinstance(lane, dict), "each lane must be an object")
    stop, diverged = lane.get("stopped_early"), lane.get("diverged")
    if diverged is not None:
        need(isinstance(diverged, dict) and is_int(diverged.get("step"), 0, global_step), "lane.diverged.step")
        return diverged["step"]
    if stop is not None:
        need(isinstance(stop, dict) and is_int(stop.get("step"), 0, global_step - 1), "lane.stopped_early.step")
        return stop["step"] + 1
    return global_step


RUN_FIELDS = {"steps", "early_stop", "best_step", "at_stop", "best", "weight_norm", "weight_norm_squared"}
REPRODUCTION_FIELDS = {"run_dir", "n_train_images", "n_val_images", "steps_per_epoch", "validate_every",
                       "last_validation_step", "last_epoch_batch_loss", "config", "wall_seconds"}


def check_run_metrics(data, path, reproduction: bool = False) -> dict:
    """metrics.json: the RUN record summarize() writes (and, in a reproduction, what execute adds)."""
    try:
        need(isinstance(data, dict), "metrics.json must hold an object")
        missing = (RUN_FIELDS | (REPRODUCTION_FIELDS if reproduction else set())) - set(data)
        need(not missing, f"it lacks {', '.join(sorted(missing))}")
        need(is_int(data["steps"]), "steps must be an integer >= 0")
        stop = data["early_stop"]
        need(stop is None or (isinstance(stop, dict) and set(stop) >= {"step", "epoch"}
                              and is_int(stop["step"]) and is_int(stop["epoch"])),
             "early_stop must be null or {step, epoch} integers")
        need(data["best_step"] is None or is_int(data["best_step"]), "best_step must be null or an integer")
        check_metrics(data["at_stop"], "at_stop")
        check_metrics(data["best"], "best")
        for name in ("weight_norm", "weight_norm_squared"):
            need(is_number(data[name], 0.0), f"{name} must be a number >= 0")
        for name in ("wall_seconds",):
            need(name not in data or is_number(data[name], 0.0), f"{name} must be a number >= 0")
        group = data.get("lock_step_group", [])
        need(isinstance(group, list) and all(isinstance(n, str) for n in group), "lock_step_group: names")
        if reproduction:
            _check_reproduction_fields(data)
        return data
    except (Invalid, TypeError, ValueError, KeyError) as exc:
        raise fail_in(path, exc) from None


def check_diverged_metrics(data, path) -> dict:
    """metrics.json of a run whose training diverged: "diverged" (training.Divergence's record), the
    "steps" it took before (the diverged step) and its wall_seconds."""
    try:
        need(isinstance(data, dict) and {"diverged", "steps"} <= set(data), "it must hold diverged and steps")
        divergence = Divergence.from_json(data["diverged"])
        need(is_int(data["steps"]) and data["steps"] == divergence.step, "steps must equal diverged.step")
        need(is_number(data.get("wall_seconds"), 0.0), "wall_seconds must be a number >= 0")
        group = data.get("lock_step_group", [])
        need(isinstance(group, list) and all(isinstance(n, str) for n in group), "lock_step_group: names")
        return data
    except (Invalid, LinclassError, TypeError, ValueError, KeyError) as exc:
        raise fail_in(path, exc) from None


def _check_reproduction_fields(data: dict) -> None:
    need(isinstance(data["run_dir"], str) and isinstance(data["config"], dict), "run_dir and config")
    for name in ("n_train_images", "n_val_images", "steps_per_epoch"):
        need(is_int(data[name], 1), f"{name} must be an integer >= 1")
    for name in ("validate_every", "last_validation_step"):
        need(data[name] is None or is_int(data[name]), f"{name} must be null or an integer")
    batch = data["last_epoch_batch_loss"]
    need(isinstance(batch, dict) and is_number(batch.get("mean"), 0.0) and is_number(batch.get("std"), 0.0),
         "last_epoch_batch_loss must be {mean, std} numbers")


def check_weights(array: np.ndarray, path) -> np.ndarray:
    """Weights must be finite (their dtype and shape were checked from the npz header)."""
    if not np.isfinite(array).all():
        raise fail_in(path, Invalid("the weights hold NaN or infinity"))
    return array


def check_legacy_meta(meta, n_models: int, path) -> None:
    """checkpoint.json as linclass wrote it before issue 10: the loop's position, the generator state,
    and per model its last metrics, stop flags and early-stopping state."""
    try:
        need(isinstance(meta, dict), "it must hold an object")
        for name in ("epoch", "batch_index", "global_step"):
            need(is_int(meta.get(name)), f"{name} must be an integer >= 0")
        np.random.PCG64().state = meta["rng_state"]  # raises on anything but a PCG64 state
        lanes = meta["lanes"]
        need(isinstance(lanes, list) and len(lanes) == n_models, f"lanes must list {n_models} model(s)")
        for lane in lanes:
            need(isinstance(lane, dict) and isinstance(lane.get("stop_training"), bool), "lane.stop_training")
            check_metrics(lane.get("last_logs"), "last_logs")
            stop = lane.get("stopped_early")
            need(stop is None or (isinstance(stop, dict) and set(stop) == {"step", "epoch"}
                                  and is_int(stop["step"]) and is_int(stop["epoch"])), "stopped_early")
            if "early_stopping" in lane:
                state = lane["early_stopping"]
                need(isinstance(state, dict) and set(state) == {"best", "wait", "best_step", "best_logs"},
                     "early_stopping must hold best, wait, best_step, best_logs")
                need(state["best"] is None or is_number(state["best"], 0.0), "early_stopping.best")
                need(is_int(state["wait"]), "early_stopping.wait")
                need(state["best_step"] is None or is_int(state["best_step"]), "early_stopping.best_step")
                check_metrics(state["best_logs"], "early_stopping.best_logs")
    except (Invalid, TypeError, ValueError, KeyError) as exc:
        raise fail_in(path, exc) from None
