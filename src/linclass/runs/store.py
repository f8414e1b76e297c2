"""A run folder on disk: config.json, history.json, weights.npz, metrics.json and status.json (see
_io.write_status), each written atomically; or, for an interrupted run, its checkpoint."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from .._io import read_json, read_npz, read_status, save_npz, write_json, write_status
from ..errors import LinclassError
from ..training import History
from .config import RunConfig
from .train import make_model

RUN_FILES = ("config.json", "history.json", "weights.npz", "metrics.json")
CHECKPOINT_FILES = ("config.json", "histories.json", "weights.npz", "checkpoint.json", "status.json")


def save_run(folder: Path, config: RunConfig, model, summary: dict) -> None:
    """Write the four files of a finished run into folder (which must exist)."""
    write_json(folder / "config.json", config.to_json())
    write_json(folder / "history.json", model.history_.to_json())
    write_json(folder / "metrics.json", summary)
    save_npz(folder / "weights.npz", weights=model.weights_)
    write_status(folder, "run", "complete", steps=summary["steps"])


def save_checkpoint(folder: Path, config: RunConfig, checkpoint: dict, resume_hint: str) -> None:
    """Write an interrupted run: its history (histories.json), the weights of the last completed step
    and the best weights (weights.npz), the trainer state (checkpoint.json), and status.json."""
    write_json(folder / "config.json", config.to_json())
    save_trainer_state(folder, checkpoint)
    write_status(folder, "run", "incomplete", completed_steps=checkpoint["meta"]["global_step"], resume=resume_hint)


def save_trainer_state(folder: Path, checkpoint: dict) -> None:
    """Trainer.checkpoint() as weights.npz (arrays), checkpoint.json (state) and histories.json."""
    folder.mkdir(parents=True, exist_ok=True)
    save_npz(folder / "weights.npz", **checkpoint["arrays"])
    write_json(folder / "histories.json", [history.to_json() for history in checkpoint["histories"]])
    write_json(folder / "checkpoint.json", checkpoint["meta"])  # last: it marks the state complete


def load_trainer_state(folder: Path) -> dict:
    """The dict save_trainer_state wrote, for Trainer.fit/fit_many(resume_from=...)."""
    meta = read_json(folder / "checkpoint.json")
    histories = [History.from_json(h) for h in read_json(folder / "histories.json")]
    return {"meta": meta, "arrays": read_npz(folder / "weights.npz"), "histories": histories}


def run_state(folder: Path) -> str | None:
    """'complete', 'incomplete', or None when folder holds no readable status.json of a run."""
    status = read_status(folder)
    return status["state"] if status is not None and status["kind"] == "run" else None


def load_checkpoint(folder: str | os.PathLike) -> tuple[RunConfig, dict]:
    """(config, checkpoint dict for Trainer.fit(resume_from=...)) of an interrupted run folder."""
    folder = Path(folder)
    state = run_state(folder)
    if state == "complete":
        raise LinclassError(f"{folder} is a complete run; there is nothing to resume.")
    missing = [name for name in CHECKPOINT_FILES if not (folder / name).is_file()]
    if state != "incomplete" or missing:
        raise LinclassError(f"{folder} is not an interrupted linclass run (missing {', '.join(missing) or 'status'}); "
                            "start a new run instead of --resume.")
    try:
        config = RunConfig.from_json(read_json(folder / "config.json")).resolved()
        checkpoint = load_trainer_state(folder)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError) as exc:
        raise LinclassError(f"{folder}: damaged checkpoint ({exc}); start the run again without --resume.") from exc
    return config, checkpoint


def load_run(folder: str | os.PathLike):
    """(config, model with weights, metrics dict) of a run folder written by save_run."""
    folder = Path(folder)
    if not folder.is_dir():
        raise LinclassError(f"{folder} is not a folder; give the folder written by 'linclass train --out'.")
    status = read_status(folder)
    if status is not None and status["kind"] in ("reproduction", "sweep"):
        raise LinclassError(f"{folder} is a {status['kind']}, not a run; give one of its runs/<name>/ folders.")
    if run_state(folder) == "incomplete":
        raise LinclassError(f"{folder} is an interrupted run; finish it with 'linclass train --resume --out {folder}'.")
    missing = [name for name in RUN_FILES if not (folder / name).is_file()]
    if missing:
        raise LinclassError(f"{folder} is not a complete linclass run (missing {', '.join(missing)}).")
    try:
        config = RunConfig.from_json(read_json(folder / "config.json")).resolved()
        metrics = read_json(folder / "metrics.json")
        history = History.from_json(read_json(folder / "history.json"))
    except LinclassError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LinclassError(f"{folder}: damaged run files ({exc}); train the run again.") from exc
    try:
        weights = read_npz(folder / "weights.npz")["weights"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise LinclassError(f"{folder / 'weights.npz'} is damaged ({exc}); train the run again.") from exc
    model = make_model(config)
    expected = (785, model.n_outputs)
    if weights.shape != expected or weights.dtype.kind != "f" or not np.isfinite(weights).all():
        raise LinclassError(f"{folder / 'weights.npz'} holds {weights.dtype} weights of shape {weights.shape}; "
                            f"expected finite floats of shape {expected}. Train the run again.")
    model.set_weights(weights)
    model.history_ = history
    return config, model, metrics
