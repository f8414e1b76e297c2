#!/usr/bin/env python3
"""Where a training's time goes: the figures the README's Performance section quotes.

usage:
  python tools/where_time_goes.py blocks [--dtype float64|float32] [--lanes 1,3,8,15]
      one 2,048-row validation block on one thread, medians: pixel conversion (and, for comparison, a
      plain cast of the pixels to floats), product, loss and hits
  python tools/where_time_goes.py train [linclass train options...]
      one `linclass train` in this process: wall seconds, and the seconds spent in validations and steps
  python tools/where_time_goes.py sweep [--threads N]
      the benchmark's 3 x 5 softmax grid (make bench's sweep row) as one lock-step group in this
      process, N validation threads: the same split of seconds
  python tools/where_time_goes.py float-copy [--dtype float64|float32] [--rounds N]
      make bench's softmax-50 run (public API) on the features as bytes and on a float copy of them,
      alternated: what converting the pixels costs
  python tools/where_time_goes.py pytorch
      make bench's PyTorch float32 loop, two threads, medians: one validation, one step (needs the
      bench extra: `make bench` installs it)

Run it on a quiet machine, with LINCLASS_DATA_DIR set (or the data in linclass's cache). The split
comes from timing two of the trainer's calls (a validation pass, a step of every model), wrapped for
this process only: nothing is changed in linclass.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the benchmarks package of this checkout

BLOCK_ROWS = 2048


def median_ms(function, repeats: int = 31) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1e3


def blocks(dtype: str, lanes: list[int]) -> None:
    """Costs of one block of random pixels, one BLAS thread, for 1 to L models side by side."""
    from threadpoolctl import threadpool_limits

    from linclass.features import N_PIXELS, STORED, PixelFeatures
    from linclass.losses import softmax_lanes_loss_sums_and_hits

    rng = np.random.default_rng(0)
    pixels = np.zeros((BLOCK_ROWS, STORED), dtype=np.uint8)
    pixels[:, :N_PIXELS] = rng.integers(0, 256, (BLOCK_ROWS, N_PIXELS))
    labels = rng.integers(0, 10, BLOCK_ROWS)
    features = PixelFeatures(pixels, dtype)
    buffer = features.buffer(BLOCK_ROWS)
    block = features.block(0, BLOCK_ROWS, buffer)
    with threadpool_limits(limits=1, user_api="blas"):
        print(f"one {BLOCK_ROWS}-row block, {dtype}, one thread (median of 31, ms):")
        print(f"  conversion from bytes: {median_ms(lambda: features.block(0, BLOCK_ROWS, buffer)):.2f}")
        cast = np.empty(pixels.shape, dtype=dtype)  # what a product on raw pixel values would convert instead
        print(f"  plain cast of the pixels (no scaling, so not the features): "
              f"{median_ms(lambda: np.copyto(cast, pixels, casting='unsafe')):.2f}")
        for n in lanes:
            W = (rng.standard_normal((N_PIXELS + 1, 10 * n)) * 0.01).astype(dtype)
            logits = block @ W
            product = median_ms(lambda: block @ W)
            stats = median_ms(lambda: softmax_lanes_loss_sums_and_hits(logits.reshape(BLOCK_ROWS, n, 10), labels))
            print(f"  {n:2d} model(s), {10 * n:3d} columns: product {product:.2f}, loss and hits {stats:.2f}")


class SplitClock:
    """Adds up the seconds of the trainer's validation passes and steps while it is active."""

    def __init__(self):
        self.seconds = {"validations": 0.0, "steps": 0.0}

    def __enter__(self):
        import linclass.training.trainer as trainer

        self._trainer, self._originals = trainer, (trainer.Trainer._validate, trainer.step_lanes)
        trainer.Trainer._validate = self._timed("validations", trainer.Trainer._validate)
        trainer.step_lanes = self._timed("steps", trainer.step_lanes)
        return self

    def __exit__(self, *exc):
        self._trainer.Trainer._validate, self._trainer.step_lanes = self._originals

    def _timed(self, name, function):
        def timed(*args):
            started = time.perf_counter()
            try:
                return function(*args)
            finally:
                self.seconds[name] += time.perf_counter() - started
        return timed

    def report(self, wall: float) -> str:
        return f"wall {wall:.2f} s: " + ", ".join(f"{name} {s:.2f} s" for name, s in self.seconds.items())


def train(options: list[str]) -> None:
    from linclass.cli.main import main

    out = Path(tempfile.mkdtemp(prefix="where-time-goes-")) / "run"
    with SplitClock() as clock:
        started = time.perf_counter()
        code = main(["train", *options, "--no-progress", "--out", str(out)])
        wall = time.perf_counter() - started
    if code:
        sys.exit(code)
    print(f"linclass train {' '.join(options)}: {clock.report(wall)}")


def sweep(threads: int) -> None:
    from benchmarks.bench_sweep import L2_STRENGTHS, LEARNING_RATES
    from linclass.report.execute import run_group
    from linclass.runs import RunConfig
    from linclass.sweeps.grid import Grid, plan_runs

    grid = Grid(tuple(map(float, LEARNING_RATES)), tuple(map(float, L2_STRENGTHS)), (0,)).checked()
    runs = plan_runs(RunConfig(model="softmax"), grid)
    with SplitClock() as clock, tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        run_group(runs, Path(out), threads=threads, drop_diverged=True)
        wall = time.perf_counter() - started
    print(f"{len(runs)} sweep runs as one lock-step group, {threads} validation thread(s): {clock.report(wall)}")


def float_copy(dtype: str, rounds: int) -> None:
    """make bench's linclass row on the split as PixelFeatures and on dense float arrays of the same values."""
    from dataclasses import replace

    import linclass
    from benchmarks.bench_workloads import run_linclass

    split = linclass.ten_class_split(linclass.load_mnist(), dtype=dtype)
    for _ in range(rounds):
        from_bytes = run_linclass(split)["seconds"]
        dense = replace(split, X_train=np.asarray(split.X_train), X_val=np.asarray(split.X_val))
        from_copy = run_linclass(dense)["seconds"]
        del dense
        print(f"softmax-50 {dtype}: from bytes {from_bytes:.2f} s, from a float copy {from_copy:.2f} s", flush=True)


def pytorch() -> None:
    """One validation (30,000 rows) and one step (128 rows) of make bench's PyTorch loop, on random pixels."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    X_all = torch.from_numpy((rng.integers(0, 256, (30000, 784)) / 127.5 - 1).astype(np.float32))
    y_all = torch.from_numpy(rng.integers(0, 10, 30000))
    X_train, y_train = X_all[:20000], y_all[:20000]
    model = torch.nn.Linear(784, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def validation():
        with torch.no_grad():
            logits = model(X_all)
            for part, labels in ((logits[:20000], y_train), (logits[20000:], y_all[20000:])):
                F.cross_entropy(part, labels).item()
                (part.argmax(1) == labels).float().mean().item()

    def step():
        rows = torch.randint(0, 20000, (128,))
        loss = F.cross_entropy(model(X_train[rows]), y_train[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()

    print(f"PyTorch {torch.__version__}, float32, two threads (medians, ms): one validation of 30,000 rows "
          f"{median_ms(validation):.2f}, one step of 128 rows {median_ms(step, 501):.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    block_parser = commands.add_parser("blocks", help="the costs of one validation block")
    block_parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    block_parser.add_argument("--lanes", default="1,3,8,15", help="models side by side (comma-separated)")
    commands.add_parser("train", help="one linclass train, split into validations and steps", add_help=False)
    sweep_parser = commands.add_parser("sweep", help="the benchmark's sweep grid as one group in this process")
    sweep_parser.add_argument("--threads", type=int, default=1)
    copy_parser = commands.add_parser("float-copy", help="make bench's run from bytes and from a float copy")
    copy_parser.add_argument("--dtype", choices=("float64", "float32"), default="float32")
    copy_parser.add_argument("--rounds", type=int, default=2)
    commands.add_parser("pytorch", help="make bench's PyTorch loop: one validation, one step")
    args, rest = parser.parse_known_args(argv)
    if args.command == "train":
        train(rest)
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    elif args.command == "blocks":
        blocks(args.dtype, [int(n) for n in args.lanes.split(",")])
    elif args.command == "float-copy":
        float_copy(args.dtype, args.rounds)
    elif args.command == "pytorch":
        pytorch()
    else:
        sweep(args.threads)


if __name__ == "__main__":
    main()
