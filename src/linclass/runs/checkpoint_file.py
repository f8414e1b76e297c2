"""A checkpoint on disk: one file, checkpoint.npz, written beside its destination and swapped in by a
single rename, so it changes all at once.

It is a zip of the trainer's arrays (NAME.npy) and manifest.json: the runs it belongs to (their names
and configs), the trainer state ("meta"), the histories, each array's dtype, shape and SHA-256, and a
SHA-256 of the manifest itself. Loading verifies every part against the manifest and the manifest
against its own digest: parts that do not belong together are refused, never resumed.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from .._io import atomic_file, read_json
from .._npz import Spec, pack_npz, read_member, read_npz
from ..errors import LinclassError
from .config import RunConfig
from .schema import Invalid, check_legacy_meta, fail_in, is_int, lane_steps, need, parse_config, parse_history
from .train import make_model

CHECKPOINT_FILE = "checkpoint.npz"
FORMAT = "linclass checkpoint 1"
N_FEATURES = 785
_WEIGHT_NAME = re.compile(r"^(best_)?weights(_\d+)?$")


def _digest(manifest: dict) -> str:
    body = {key: value for key, value in manifest.items() if key != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=False).encode()).hexdigest()


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _array_sha(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def write_checkpoint(path: Path, checkpoint: dict, configs: list[RunConfig], names: list[str]) -> None:
    """Trainer.checkpoint() of the runs `names` (trained with `configs`, lock-step) as one file at path."""
    arrays = {name: np.asarray(array) for name, array in checkpoint["arrays"].items()}
    manifest = {"format": FORMAT, "written_by": "linclass", "members": list(names),
                "configs": [config.to_json() for config in configs],
                "global_step": int(checkpoint["meta"]["global_step"]), "meta": checkpoint["meta"],
                "histories": [history.to_json() for history in checkpoint["histories"]],
                "arrays": {name: {"dtype": array.dtype.str, "shape": list(array.shape), "sha256": _array_sha(array)}
                           for name, array in arrays.items()}}
    manifest["digest"] = _digest(manifest)
    data = json.dumps(manifest, allow_nan=False).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as handle:
        pack_npz(handle, arrays, {"manifest.json": data})


def checkpoint_members(path: Path) -> list[str]:
    """The run names a checkpoint file belongs to (its manifest verified against its digest)."""
    return _manifest(path)["members"]


def _manifest(path: Path) -> dict:
    try:
        manifest = json.loads(read_member(path, "manifest.json", 64 << 20), parse_constant=_no_constant)
        need(isinstance(manifest, dict) and manifest.get("format") == FORMAT, "not a linclass checkpoint")
        need(manifest.get("digest") == _digest(manifest), "its manifest does not match its digest")
        need(isinstance(manifest["members"], list) and all(isinstance(m, str) for m in manifest["members"]),
             "members must be names")
        return manifest
    except (Invalid, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise fail_in(path, exc) from None


def read_checkpoint(path: Path, configs: list[RunConfig]) -> dict:
    """The checkpoint dict (for Trainer.fit/fit_many(resume_from=...)) saved for exactly these configs."""
    manifest = _manifest(path)
    try:
        saved = [parse_config(c, path) for c in manifest["configs"]]
        need(saved == list(configs), "it was saved by runs with other settings")
        meta, histories = manifest["meta"], manifest["histories"]
        need(isinstance(meta, dict) and is_int(meta.get("global_step")), "meta.global_step")
        need(meta["global_step"] == manifest["global_step"], "its step counters disagree")
        need(isinstance(histories, list) and len(histories) == len(configs), "one history per run")
        lanes = meta.get("lanes")
        need(isinstance(lanes, list) and len(lanes) == len(configs), "meta.lanes: one lane per run")
        steps = [lane_steps(lane, meta["global_step"]) for lane in lanes]
        declared = manifest["arrays"]
        need(isinstance(declared, dict), "arrays must be an object")
        specs = {name: Spec(info["dtype"], tuple(info["shape"])) for name, info in declared.items()}
    except (Invalid, ValueError, TypeError, KeyError) as exc:
        raise fail_in(path, exc) from None
    _check_known_shapes(specs, configs, path)
    arrays = read_npz(path, specs)
    for name, array in arrays.items():
        if _array_sha(array) != declared[name]["sha256"]:
            raise fail_in(path, Invalid(f"entry {name!r} does not belong to this checkpoint (SHA-256 differs)"))
    return {"meta": meta, "arrays": arrays,
            "histories": [parse_history(h, path, n) for h, n in zip(histories, steps)]}


def _check_known_shapes(specs: dict[str, Spec], configs: list[RunConfig], path) -> None:
    """Weights are (785, K) in the run's dtype, the batch order int64 (N,); before reading any data."""
    outputs, dtype = make_model(configs[0]).n_outputs, np.dtype(configs[0].dtype)
    for name, spec in specs.items():
        if _WEIGHT_NAME.match(name):
            expected = Spec(dtype, (N_FEATURES, outputs))
        elif name == "order":
            expected = Spec(np.int64, (None,))
        else:
            continue
        problem = expected.problem(spec.dtypes[0], spec.shape)
        if problem is not None:
            raise fail_in(path, Invalid(f"entry {name!r} declares {problem}"))


def check_order(checkpoint: dict, n_train: int, path) -> None:
    """The saved batch order must be empty or a permutation of the n_train training rows."""
    order = checkpoint["arrays"].get("order")
    if order is None or order.size == 0:
        return
    if order.shape != (n_train,) or not np.array_equal(np.sort(order), np.arange(n_train)):
        raise fail_in(path, Invalid(f"its batch order is not a permutation of the {n_train} training rows"))


def read_legacy_checkpoint(folder: Path, configs: list[RunConfig]) -> dict:
    """A checkpoint from before issue 10 (weights.npz, histories.json, checkpoint.json side by side):
    every part checked against the schema, and the parts against each other as far as they can be."""
    try:
        meta = read_json(folder / "checkpoint.json")
        histories = read_json(folder / "histories.json")
    except OSError as exc:
        raise LinclassError(f"cannot read the checkpoint in {folder}: {exc.strerror}.") from None
    except LinclassError as exc:
        raise fail_in(folder, exc) from None
    check_legacy_meta(meta, len(configs), folder / "checkpoint.json")
    if not isinstance(histories, list) or len(histories) != len(configs):
        raise fail_in(folder / "histories.json", Invalid("it must hold one history per run"))
    try:
        steps = [lane_steps(lane, meta["global_step"]) for lane in meta["lanes"]]
    except Invalid as exc:
        raise fail_in(folder / "checkpoint.json", exc) from None
    parsed = [parse_history(h, folder / "histories.json", n) for h, n in zip(histories, steps)]
    outputs, dtype = make_model(configs[0]).n_outputs, np.dtype(configs[0].dtype)
    specs = {"order": Spec(np.int64, (None,))}
    optional = []
    for i in range(len(configs)):
        suffix = "" if i == 0 else f"_{i}"
        specs[f"weights{suffix}"] = specs[f"best_weights{suffix}"] = Spec(dtype, (N_FEATURES, outputs))
        optional.append(f"best_weights{suffix}")
    arrays = read_npz(folder / "weights.npz", specs, optional=tuple(optional))
    for name, array in arrays.items():
        if name != "order" and not np.isfinite(array).all():
            raise fail_in(folder / "weights.npz", Invalid(f"{name} holds NaN or infinity"))
    return {"meta": meta, "arrays": arrays, "histories": parsed}

