"""A run folder on disk: config.json, history.json, weights.npz, metrics.json and status.json (see
_io.write_status, which records the SHA-256 of each file), each written atomically; or, for an
interrupted run, config.json, checkpoint.npz (checkpoint_file.py) and status.json; or, for a sweep's
run whose training diverged, config.json, history.json, metrics.json (where and why) and status.json.

Everything read back is untrusted: status.json, then each file's SHA-256, then its schema (schema.py),
then the npz entries by name with their headers checked before reading. Any problem is one
LinclassError naming the file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._npz import Spec, read_npz
from .._io import (atomic_dir, check_resume_folder, linclass_folder, read_json, read_status, resume_command, save_npz,
                   verify_files, write_json, write_status)
from ..data import CACHE_DIR_ENV, DATA_DIR_ENV, FASHION_DIR_ENV, default_cache_dir
from ..errors import LinclassError
from ..training import StopInfo
from .checkpoint_file import (CHECKPOINT_FILE, N_FEATURES, read_checkpoint, read_legacy_checkpoint,
                              write_checkpoint)
from .config import RunConfig
from .schema import check_diverged_metrics, check_run_metrics, check_weights, fail_in, parse_config, parse_history
from .train import make_model

RUN_FILES = ("config.json", "history.json", "weights.npz", "metrics.json")
CHECKPOINT_FILES = ("config.json", CHECKPOINT_FILE)
DIVERGED_FILES = ("config.json", "history.json", "metrics.json")
RETRAIN_ADVICE = "train it again with a lower learning rate (or λ)"
LEGACY_CHECKPOINT_FILES = ("config.json", "histories.json", "weights.npz", "checkpoint.json")


def output_folder(out: str | os.PathLike, *, force: bool = False, data_dir=None, keep_on_interrupt: bool = False):
    """atomic_dir for a run folder or a reproduction: never at or above the current folder or a data
    folder; --force replaces only a folder linclass wrote (or an empty one), swapped in one step."""
    protected = [data_dir, os.environ.get(DATA_DIR_ENV), os.environ.get(FASHION_DIR_ENV),
                 os.environ.get(CACHE_DIR_ENV) or default_cache_dir()]
    status = None if force or not os.path.isdir(out) else read_status(out)
    if status is not None and status["state"] == "incomplete":
        raise LinclassError(f"{out} is an interrupted {status['kind']}; finish it with --resume (same --out), or "
                            "pass --force to start it over, or choose another --out.")
    return atomic_dir(_folder(out), force, protected=protected, replaceable=linclass_folder,
                      keep_on_interrupt=keep_on_interrupt)


def save_run(folder: Path, config: RunConfig, model, summary: dict) -> None:
    """Write the four files of a finished run into folder (which must exist), then status.json."""
    write_json(folder / "config.json", config.to_json())
    write_json(folder / "history.json", model.history_.to_json())
    write_json(folder / "metrics.json", summary)
    save_npz(folder / "weights.npz", weights=model.weights_)
    write_status(folder, "run", "complete", files=RUN_FILES, steps=summary["steps"])


def save_diverged_run(folder: Path, config: RunConfig, history, record: dict) -> None:
    """Write a run whose training diverged into folder (which must exist): config.json, history.json (the
    steps before), metrics.json (record: "diverged", "steps", ...) and status.json. No weights: none are
    worth using."""
    write_json(folder / "config.json", config.to_json())
    write_json(folder / "history.json", history.to_json())
    write_json(folder / "metrics.json", record)
    write_status(folder, "run", "diverged", files=DIVERGED_FILES, steps=record["steps"])


def load_diverged_run(folder: str | os.PathLike):
    """(config, history, metrics dict) of a folder save_diverged_run wrote, every file checked."""
    folder = _folder(folder)
    status = read_status(folder)
    if status is None or status["kind"] != "run" or status["state"] != "diverged":
        raise LinclassError(f"{folder} is not a linclass run whose training diverged.")
    verify_files(folder, status)
    config = parse_config(_json(folder / "config.json"), folder / "config.json")
    metrics = check_diverged_metrics(_json(folder / "metrics.json"), folder / "metrics.json")
    return config, parse_history(_json(folder / "history.json"), folder / "history.json", metrics["steps"]), metrics


def _diverged_at(status: dict) -> str:
    return f" at step {status['steps']}" if "steps" in status else ""


def save_checkpoint(folder: Path, config: RunConfig, checkpoint: dict, resume_hint: str) -> None:
    """Write an interrupted run: config.json, checkpoint.npz (one file: the trainer state, weights,
    best weights and history), and status.json."""
    write_json(folder / "config.json", config.to_json())
    write_checkpoint(folder / CHECKPOINT_FILE, checkpoint, [config], [folder.name])
    write_status(folder, "run", "incomplete", files=CHECKPOINT_FILES,
                 completed_steps=checkpoint["meta"]["global_step"], resume=resume_hint)


def save_trainer_state(path: Path, checkpoint: dict, configs: list[RunConfig], names: list[str]) -> None:
    """Trainer.checkpoint() of the lock-step runs `names` as one file, swapped in by one rename."""
    write_checkpoint(path, checkpoint, configs, names)


def load_trainer_state(path: Path, configs: list[RunConfig]) -> dict:
    """The dict save_trainer_state wrote (or a checkpoint folder from before issue 10), verified."""
    if path.is_dir():
        return read_legacy_checkpoint(path, configs)
    return read_checkpoint(path, configs)


def run_state(folder: Path) -> str | None:
    """'complete', 'incomplete', or None when folder holds no valid status.json of a run."""
    status = read_status(folder)
    return status["state"] if status is not None and status["kind"] == "run" else None


def _folder(folder) -> Path:
    if not isinstance(folder, (str, os.PathLike)):
        raise LinclassError(f"a run folder must be a path; got {type(folder).__name__}.")
    return Path(folder)


def _json(path: Path):
    try:
        return read_json(path)
    except OSError as exc:
        raise LinclassError(f"cannot read {path}: {exc.strerror}; the folder is incomplete.") from None
    except LinclassError:
        raise fail_in(path, ValueError("it is not valid JSON")) from None


def load_checkpoint(folder: str | os.PathLike) -> tuple[RunConfig, dict]:
    """(config, checkpoint dict for Trainer.fit(resume_from=...)) of an interrupted run folder."""
    folder = _folder(folder)
    check_resume_folder(folder, "run")
    status = read_status(folder)
    if status is not None and status["kind"] in ("reproduction", "sweep"):
        raise LinclassError(f"{folder} is a {status['kind']}, not a run; resume it with "
                            f"'{resume_command(status['kind'], folder)}'.")
    state = status["state"] if status is not None and status["kind"] == "run" else None
    if state == "complete":
        raise LinclassError(f"{folder} is a complete run; there is nothing to resume.")
    if state == "diverged":
        raise LinclassError(f"{folder} is a run whose training diverged{_diverged_at(status)}; there is nothing to "
                            f"resume: {RETRAIN_ADVICE}.")
    missing = [name for name in CHECKPOINT_FILES if not (folder / name).is_file()]
    legacy = bool(missing) and all((folder / name).is_file() for name in LEGACY_CHECKPOINT_FILES)  # three files
    if state != "incomplete" or (missing and not legacy):
        raise LinclassError(f"{folder} is not an interrupted linclass run (missing {', '.join(missing) or 'status'}); "
                            "start a new run instead of --resume.")
    verify_files(folder, status)
    config = parse_config(_json(folder / "config.json"), folder / "config.json")
    checkpoint = (read_legacy_checkpoint(folder, [config]) if legacy
                  else read_checkpoint(folder / CHECKPOINT_FILE, [config]))
    if status.get("completed_steps", checkpoint["meta"]["global_step"]) != checkpoint["meta"]["global_step"]:
        raise fail_in(folder / "status.json", ValueError("its completed_steps disagrees with the checkpoint"))
    return config, checkpoint


def load_run(folder: str | os.PathLike, *, reproduction: bool = False):
    """(config, model with weights, metrics dict) of a run folder written by save_run, every file checked."""
    folder = _folder(folder)
    if not folder.is_dir():
        raise LinclassError(f"{folder} is not a folder; give the folder written by 'linclass train --out'.")
    status = read_status(folder)
    if status is not None and status["kind"] in ("reproduction", "sweep"):
        raise LinclassError(f"{folder} is a {status['kind']}, not a run; give one of its runs/<name>/ folders.")
    if status is not None and status["state"] == "diverged":
        raise LinclassError(f"{folder} is a run whose training diverged{_diverged_at(status)}: it has no trained "
                            f"weights to use (its history.json and metrics.json show the steps before); "
                            f"{RETRAIN_ADVICE}.")
    if status is not None and status["state"] == "incomplete":
        raise LinclassError(f"{folder} is an interrupted run; finish it with '{resume_command('run', folder)}'.")
    missing = [name for name in RUN_FILES if not (folder / name).is_file()]
    if missing or status is None:
        raise LinclassError(f"{folder} is not a complete linclass run (missing "
                            f"{', '.join(missing) or 'a valid status.json'}).")
    verify_files(folder, status)
    config = parse_config(_json(folder / "config.json"), folder / "config.json")
    metrics = check_run_metrics(_json(folder / "metrics.json"), folder / "metrics.json", reproduction)
    history = parse_history(_json(folder / "history.json"), folder / "history.json", metrics["steps"])
    model = make_model(config)
    spec = Spec(config.dtype, (N_FEATURES, model.n_outputs))
    weights = check_weights(read_npz(folder / "weights.npz", {"weights": spec})["weights"], folder / "weights.npz")
    model.set_weights(weights)
    _set_fitted_attributes(model, history, metrics)
    return config, model, metrics


def _set_fitted_attributes(model, history, metrics: dict) -> None:
    """What fit would have set on a model trained by `linclass train`: its classes (the split's labels, 0/1 or
    0-9), history, steps, early stop (linclass train stops only by EarlyStopping) and best step."""
    model.classes_ = np.arange(max(2, model.n_outputs), dtype=np.int64)
    model.history_, model.n_steps_, model.best_step_ = history, metrics["steps"], metrics["best_step"]
    stop = metrics["early_stop"]
    model.early_stop_ = None if stop is None else StopInfo(stop["step"], stop["epoch"], stop.get("stopped_by", "EarlyStopping"))
