"""Test helpers shared by the interrupt, resume and tamper tests."""

from __future__ import annotations

from linclass.training import Callback


class StopAt(Callback):
    """Sets a stop event at a given step, as Ctrl-C would."""

    def __init__(self, step, event):
        self.step, self.event = step, event

    def on_step_end(self, trainer, step):
        if step == self.step:
            self.event.set()
