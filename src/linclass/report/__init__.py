"""The course report: plan the experiments, run them, summarise, draw the figures, write the text."""

from .command import reproduce, resume_command
from .plan import LAMBDAS, TASKS, parse_tasks

__all__ = ["LAMBDAS", "TASKS", "parse_tasks", "reproduce", "resume_command"]
