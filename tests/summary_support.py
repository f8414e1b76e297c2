"""A reproduction's summary.json without its environment block (wall times, versions), for comparing runs."""

from __future__ import annotations

import json


def comparable_summary(folder) -> dict:
    summary = json.loads((folder / "summary.json").read_text())
    summary.pop("environment")
    return summary
