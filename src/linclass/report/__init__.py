"""The course report: plan the experiments, run them, summarise, draw the figures, write the text."""

from .command import reproduce
from .plan import LAMBDAS, TASKS, parse_tasks

__all__ = ["LAMBDAS", "TASKS", "parse_tasks", "reproduce"]
