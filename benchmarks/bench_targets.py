"""Issue 14's targets, every one a ratio or a size measured in the same `python -m benchmarks` run:
the summary of the rows it adds (float32 fit, gradient check, train and growth RSS) and the checks."""

from __future__ import annotations

from . import bench_stats as stats

# (name, limit, what is measured) in the order of the table
TARGETS = {
    "reproduce_jobs2_to_floor": 2.0,  # reproduce --jobs 2 (float64) / softmax-50 floor (float64), medians
    "reproduce_jobs2_float32_to_floor": 1.0,  # reproduce --jobs 2 --dtype float32 / the same floor
    "softmax50_to_floor": 1.0,  # linclass softmax-50 / floor, paired per round
    "softmax50_float32_to_torch": 0.6,  # linclass float32 / PyTorch float32 loop, medians
    "train_peak_rss_mb": 150.0,  # linclass train --model softmax
    "reproduce_peak_rss_mb_per_process": 200.0,  # reproduce --jobs 2, largest process
    "cached_load_seconds": 0.050,  # median
    "growth_to_extra_uint8_bytes": 2.0,  # peak RSS growth 20,000 -> 60,000 images / 40,000 x 784 bytes
    "gradient_check_seconds": 0.1,  # task 1
}
EXTRA_UINT8_MB = 40000 * 784 / 2**20


def _ok(runs):
    return [r for r in runs or [] if r and "error" not in r]


def summarize_added(raw: dict, out: dict) -> None:
    """Add the summary of the issue-14 rows to out (in place)."""
    runs = raw.get("runs", {})
    for name in ("linclass_float32", "gradient_check"):
        good = _ok(runs.get(name))
        if good:
            out[name] = {"seconds": stats.summary([r["seconds"] for r in good])}
    if out.get("linclass_float32") and (out.get("torch") or {}).get("seconds"):
        out["linclass_float32"]["ratio_to_torch"] = (out["linclass_float32"]["seconds"]["median"]
                                                     / out["torch"]["seconds"]["median"])
    floor = ((out.get("floor") or {}).get("seconds") or {}).get("median")
    for name in ("reproduce_jobs2", "reproduce_jobs2_float32", "reproduce_default"):
        row = out.get(name)
        if row and row["seconds"] and floor:
            row["ratio_to_floor"] = row["seconds"]["median"] / floor
    train = _ok(raw.get("train_rss"))
    if train:
        out["train_rss"] = {"max_rss_mb": stats.summary([r["max_rss_mb"] for r in train]),
                            "seconds": stats.summary([r["seconds"] for r in train])}
    growth = raw.get("growth") or {}
    small, large = _ok(growth.get("20000")), _ok(growth.get("60000"))
    if small and large:
        low, high = (stats.summary([r["max_rss_mb"] for r in runs_]) for runs_ in (small, large))
        out["growth"] = {"rss_20000_mb": low, "rss_60000_mb": high,
                         "growth_mb": high["median"] - low["median"], "extra_uint8_mb": EXTRA_UINT8_MB,
                         "ratio": (high["median"] - low["median"]) / EXTRA_UINT8_MB}


def check_targets(args, summary: dict, raw: dict) -> list[dict]:
    checks = []

    def check(name, value, text):
        limit = TARGETS[name]
        text = f"{text} (target <= {limit:g})" if value is not None else f"{text.split(':')[0].split(' = ')[0]}: not measured"
        checks.append({"name": name, "value": value, "limit": limit, "met": None if value is None else value <= limit,
                       "text": text})

    def get(*keys):
        value = summary
        for key in keys:
            value = (value or {}).get(key)
        return value

    ratio = get("reproduce_jobs2", "ratio_to_floor")
    check("reproduce_jobs2_to_floor", ratio, f"reproduce --jobs 2 / floor = {ratio or 0:.2f}x")
    ratio = get("reproduce_jobs2_float32", "ratio_to_floor")
    check("reproduce_jobs2_float32_to_floor", ratio, f"reproduce --jobs 2 --dtype float32 / float64 floor = "
          f"{ratio or 0:.2f}x")
    ratio = get("linclass", "ratio_to_floor_paired", "median")
    note = "" if args.dtype == "float64" else " (defined for float64)"
    check("softmax50_to_floor", ratio, f"softmax-50 train / floor = {ratio or 0:.2f}x{note}")
    ratio = get("linclass_float32", "ratio_to_torch")
    check("softmax50_float32_to_torch", ratio, f"softmax-50 float32 / PyTorch float32 loop = {ratio or 0:.2f}x")
    value = get("train_rss", "max_rss_mb", "max")
    check("train_peak_rss_mb", value, f"peak RSS of linclass train --model softmax: {value or 0:.0f} MB")
    value = get("reproduce_jobs2", "max_rss_mb", "max")
    check("reproduce_peak_rss_mb_per_process", value, f"peak RSS per process, reproduce --jobs 2: {value or 0:.0f} MB")
    value = get("load_cached", "seconds", "median")
    check("cached_load_seconds", value, f"cached MNIST load: {(value or 0) * 1000:.0f} ms median")
    growth = get("growth")
    check("growth_to_extra_uint8_bytes", growth and growth["ratio"],
          f"peak RSS growth 20,000 -> 60,000 images: {(growth or {}).get('growth_mb', 0):.1f} MB = "
          f"{(growth or {}).get('ratio', 0):.2f}x their extra {EXTRA_UINT8_MB:.1f} MB of uint8 pixels")
    value = get("gradient_check", "seconds", "median")
    check("gradient_check_seconds", value, f"task 1 gradient check: {value or 0:.3f} s")
    return checks


def added_rows(summary: dict) -> list:
    """Table rows of the issue-14 measurements."""
    rows = ["issue 14 rows (ratios of medians to the float64 floor above, unless said otherwise)"]
    float32 = summary.get("linclass_float32")
    if float32:
        versus = f"{float32['ratio_to_torch']:.2f}x PyTorch" if float32.get("ratio_to_torch") else ""
        rows.append(("linclass softmax-50, float32", stats.fmt_seconds(float32["seconds"]), versus, "", ""))
    for name, label in (("reproduce_jobs2", "reproduce --jobs 2 (float64)"),
                        ("reproduce_jobs2_float32", "reproduce --jobs 2 --dtype float32")):
        row = summary.get(name)
        if row and row.get("ratio_to_floor"):
            rows.append((label, stats.fmt_seconds(row["seconds"]), f"{row['ratio_to_floor']:.2f}x floor", "", ""))
    train = summary.get("train_rss")
    if train:
        rows.append(("linclass train --model softmax (50 epochs)", stats.fmt_seconds(train["seconds"]),
                     stats.fmt_mb(train["max_rss_mb"]), "", ""))
    growth = summary.get("growth")
    if growth:
        rows.append(("one epoch, 20,000 / 60,000 training images", "",
                     f"{growth['rss_20000_mb']['median']:.0f} / {growth['rss_60000_mb']['median']:.0f} MB "
                     f"(+{growth['growth_mb']:.1f} MB = {growth['ratio']:.2f}x uint8)", "", ""))
    check = summary.get("gradient_check")
    if check:
        rows.append(("task 1 gradient check", stats.fmt_seconds(check["seconds"], 3), "", "", ""))
    return rows
