"""Ctrl-C and SIGTERM as a request to stop training after the current step, resumably."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


@contextmanager
def stop_on_signals(signals=(signal.SIGINT, signal.SIGTERM)):
    """Yield an Event that SIGINT/SIGTERM set instead of stopping the process; a second signal
    raises KeyboardInterrupt at once. Pass the event to Trainer(stop_event=...)."""
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return

    def request_stop(signum, frame):
        if event.is_set():
            raise KeyboardInterrupt
        event.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in signals}
    try:
        yield event
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
