"""Training: the mini-batch SGD loop, its explicit state, callbacks, the history it records, interrupt and resume."""

from .callbacks import Callback, EarlyStopping, ProgressBar
from .divergence import Divergence
from .history import METRIC_NAMES, History, StopInfo
from .signals import stop_on_signals
from .state import FitResult, ModelState, Progress
from .trainer import Trainer, TrainingDiverged

__all__ = ["Callback", "Divergence", "EarlyStopping", "FitResult", "History", "METRIC_NAMES", "ModelState", "Progress",
           "ProgressBar", "StopInfo", "Trainer", "TrainingDiverged", "stop_on_signals"]
