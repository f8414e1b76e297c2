"""Interrupt and resume: gathers the state_dict() of the trainer, of each model's state and of each
stateful callback into plain JSON and named arrays, so a resumed run ends bit for bit where an
uninterrupted one would; and hands each part back to its owner's load_state_dict()."""

from __future__ import annotations

import numpy as np

from ..errors import LinclassError
from .history import History


def capture_state(trainer) -> dict:
    """The complete state of a trainer's interrupted run, for fit/fit_many(resume_from=...).

    {"meta": JSON-able dict, "arrays": {name: array}, "histories": [History per model]};
    the first model's arrays are named as their keys ("weights", "best_weights"), the others' carry "_<i>".
    """
    arrays: dict[str, np.ndarray] = {}
    meta = _take_arrays(trainer.state_dict(), trainer.state_arrays, arrays, 0)
    meta["lanes"], histories = [], []
    for i, state in enumerate(trainer.model_states):
        lane = _take_arrays(state.state_dict(), state.state_arrays, arrays, i)
        histories.append(lane.pop("history"))
        for key, callback in _stateful(state.callbacks):
            lane[key] = _take_arrays(callback.state_dict(), getattr(callback, "state_arrays", ()), arrays, i)
        meta["lanes"].append(lane)
    return {"meta": meta, "arrays": arrays, "histories": histories}


def restore_state(trainer, checkpoint: dict) -> None:
    """Load a capture_state() dict back into a trainer set up for the same run."""
    try:
        meta, arrays, histories = checkpoint["meta"], checkpoint["arrays"], checkpoint["histories"]
        lanes, states = meta["lanes"], trainer.model_states
        if len(lanes) != len(states) or len(histories) != len(states):
            raise LinclassError(f"the checkpoint holds {len(lanes)} models, this run {len(states)}; is it another run?")
        if not all(isinstance(history, History) for history in histories):
            raise LinclassError("the checkpoint's histories must be History objects; is it a checkpoint at all?")
        trainer.load_state_dict(_with_arrays(meta, trainer.state_arrays, arrays, 0))
        for i, (state, lane, history) in enumerate(zip(states, lanes, histories)):
            state.load_state_dict({**_with_arrays(lane, state.state_arrays, arrays, i), "history": history})
            for key, callback in _stateful(state.callbacks):
                if key in lane:
                    callback.load_state_dict(_with_arrays(lane[key], getattr(callback, "state_arrays", ()), arrays, i))
    except LinclassError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise LinclassError(f"resume_from must be the dict Trainer.checkpoint() returned for this run; this one is "
                            f"not ({type(exc).__name__}: {exc}). Start the run again without resume_from.") from None


def _stateful(callbacks: list) -> list[tuple[str, object]]:
    """(key, callback) for each callback with a state_dict; the key is its state_key (repeats get "_<n>")."""
    found, seen = [], {}
    for callback in callbacks:
        if callable(getattr(callback, "state_dict", None)) and callable(getattr(callback, "load_state_dict", None)):
            key = getattr(callback, "state_key", type(callback).__name__)
            seen[key] = seen.get(key, -1) + 1
            found.append((key if seen[key] == 0 else f"{key}_{seen[key]}", callback))
    return found


def _take_arrays(state: dict, keys: tuple, arrays: dict, lane: int) -> dict:
    """A copy of state without its array entries, which go (unless None) into arrays by name."""
    state = dict(state)
    for key in keys:
        value = state.pop(key)
        if value is not None:
            arrays[_array_name(key, lane)] = value
    return state


def _with_arrays(state: dict, keys: tuple, arrays: dict, lane: int) -> dict:
    return {**state, **{key: arrays.get(_array_name(key, lane)) for key in keys}}


def _array_name(name: str, lane: int) -> str:
    return name if lane == 0 else f"{name}_{lane}"
