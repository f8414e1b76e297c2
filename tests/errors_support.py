"""Helpers of the error tests (tests/test_errors_*.py): run the CLI in-process and check its one-line errors."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np

from linclass.cli import main


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one in-process CLI call; argparse errors exit via SystemExit."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> str:
    """Exit code 2 and exactly one stderr line, 'linclass: error: ...', holding every fragment."""
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("linclass: error:"), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def assert_nothing_left(folder: Path, out_name: str = "run") -> None:
    """No run folder and no temporary leftovers beside it."""
    leftovers = sorted(p.name for p in folder.iterdir()
                       if p.name == out_name or p.name.startswith(f".{out_name}."))
    assert leftovers == [], leftovers


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def train_args(mnist_dir, out, *extra) -> list:
    return ["train", "--model", "logistic", "--epochs", "1", "--data-dir", mnist_dir, "--out", out,
            "--no-progress", *extra]
