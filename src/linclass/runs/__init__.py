"""Runs: the configuration of one training run, training it, and its folder on disk."""

from .config import DTYPES, MODEL_DEFAULTS, RENAMED_FIELDS, VALIDATIONS_PER_EPOCH, RunConfig
from .store import (load_checkpoint, load_diverged_run, load_run, output_folder, run_state, save_checkpoint,
                    save_diverged_run, save_run)
from .train import (load_data, make_callbacks, make_model, make_split, make_trainer, schedule, summarize, held_out_metrics,
                    train, train_many)

__all__ = ["DTYPES", "MODEL_DEFAULTS", "RENAMED_FIELDS", "VALIDATIONS_PER_EPOCH", "RunConfig", "load_checkpoint",
           "load_data", "load_diverged_run", "load_run", "make_callbacks", "make_model", "make_split", "make_trainer",
           "output_folder", "run_state", "save_checkpoint", "save_diverged_run", "save_run", "schedule", "summarize",
           "held_out_metrics", "train", "train_many"]
