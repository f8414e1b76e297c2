"""Training: the mini-batch SGD loop, its callbacks, the history it records, interrupt and resume."""

from .callbacks import Callback, EarlyStopping, ProgressBar
from .history import METRIC_NAMES, History, StopInfo
from .signals import stop_on_signals
from .trainer import Trainer, TrainingDiverged

__all__ = ["Callback", "EarlyStopping", "History", "METRIC_NAMES", "ProgressBar", "StopInfo", "Trainer",
           "TrainingDiverged", "stop_on_signals"]
