"""Interrupt and resume: the trainer's
complete state (weights, early-stopping state, histories, batch order, random generator) as
plain JSON and arrays, so that a resumed run ends bit for bit where an uninterrupted one would."""

from __future__ import annotations

import numpy as np

from ..errors import LinclassError
from .history import StopInfo


def capture_state(trainer) -> dict:
    """The complete state of a trainer's interrupted run, for fit/fit_many(resume_from=...).

    {"meta": JSON-able dict, "arrays": {name: array}, "histories": [History per model]};
    the first model's arrays are "weights" and "best_weights", the others' carry "_<i>".
    """
    meta = {"epoch": trainer.epoch, "batch_index": trainer.batch_index, "global_step": trainer.global_step,
            "rng_state": trainer.rng.bit_generator.state, "lanes": []}
    arrays = {"order": trainer.order if trainer.order is not None else np.empty(0, dtype=np.int64)}
    for i, lane in enumerate(trainer.lanes):
        lane_meta = {"last_logs": lane.last_logs, "stop_training": lane.stop_training,
                     "stopped_early": None if lane.stopped_early is None else vars(lane.stopped_early)}
        arrays[_array_name("weights", i)] = lane.model.weights_.copy()
        stopper = lane.early_stopping
        if stopper is not None:
            state = stopper.state_dict()
            best = state.pop("best_weights")
            if best is not None:
                arrays[_array_name("best_weights", i)] = best
            lane_meta["early_stopping"] = state
        meta["lanes"].append(lane_meta)
    return {"meta": meta, "arrays": arrays, "histories": [lane.history for lane in trainer.lanes]}

def restore_state(trainer, state: dict) -> None:
    meta, arrays = state["meta"], state["arrays"]
    if len(meta["lanes"]) != len(trainer.lanes):
        raise LinclassError(f"the checkpoint holds {len(meta['lanes'])} models, this run {len(trainer.lanes)}; "
                            "is it another run?")
    trainer.epoch, trainer.batch_index = int(meta["epoch"]), int(meta["batch_index"])
    trainer.global_step = int(meta["global_step"])
    trainer.rng.bit_generator.state = meta["rng_state"]
    trainer.order = arrays["order"] if arrays["order"].size else None
    for i, (lane, lane_meta, history) in enumerate(zip(trainer.lanes, meta["lanes"], state["histories"])):
        W = arrays[_array_name("weights", i)]
        if W.shape != lane.model.weights_.shape or W.dtype != lane.model.weights_.dtype:
            raise LinclassError(f"checkpoint weights are {W.dtype} {W.shape}, the run needs "
                                f"{lane.model.weights_.dtype} {lane.model.weights_.shape}; is it another run?")
        lane.model.weights_[...] = W
        lane.last_logs, lane.stop_training = lane_meta["last_logs"], bool(lane_meta["stop_training"])
        lane.stopped_early = StopInfo(**lane_meta["stopped_early"]) if lane_meta["stopped_early"] else None
        lane.history = history
        stopper = lane.early_stopping
        if stopper is not None:
            stopper.load_state_dict({**lane_meta["early_stopping"],
                                     "best_weights": arrays.get(_array_name("best_weights", i))})


def _array_name(name: str, lane: int) -> str:
    return name if lane == 0 else f"{name}_{lane}"
