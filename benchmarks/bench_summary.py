"""From the raw runs to the summary (medians, paired ratios), the target checks and the table."""

from __future__ import annotations

from . import bench_stats as stats
from . import bench_workloads as wl
from .bench_targets import added_rows, summarize_added


def _ok(runs):
    return [r for r in runs if r and "error" not in r]


def _field(runs, key):
    return [r.get(key) for r in _ok(runs)]


def summarize(args, raw: dict) -> dict:
    runs = raw.get("runs", {})
    out = {}

    def timed(name, extra=()):
        good = _ok(runs.get(name, []))
        if not runs.get(name):
            return None
        row = {"seconds": stats.summary(_field(good, "seconds")),
               "errors": [r["error"] for r in runs[name] if r and "error" in r]}
        for key in extra:
            row[key] = stats.summary(_field(good, key))
        return row

    out["floor"] = timed("floor", ("steps_seconds", "validation_seconds"))
    out["floor_1_thread"] = timed("floor_1_thread", ("steps_seconds", "validation_seconds"))
    out["preprocess"] = {"seconds": stats.summary(raw.get("preprocess_seconds", []))}
    for name in ("linclass", "torch", "lbfgs", "sgd"):
        row = timed(name, ("val_accuracy", "best_val_accuracy", "n_iter"))
        if row is None:
            continue
        if name in ("linclass", "torch"):
            reached = [r.get("to_target") for r in _ok(runs[name])]
            row["to_target_seconds"] = stats.summary([r["seconds"] if r else None for r in reached])
            row["to_target_step"] = stats.summary([r["step"] if r else None for r in reached])
            row["to_target_never"] = sum(r is None for r in reached)
        else:
            target_runs = [r for r in runs.get(f"{name}_to_target", []) if r and "error" not in r]
            row["to_target_seconds"] = stats.summary(_field(target_runs, "seconds"))
            row["to_target_never"] = sum(r.get("seconds") is None for r in target_runs)
            if name == "sgd":
                row["to_target_epochs"] = stats.summary(_field(target_runs, "epochs"))
            else:
                row["to_target_max_iter"] = (raw.get("lbfgs_search") or {}).get("max_iter")
                row["to_target_val_accuracy"] = stats.summary(_field(target_runs, "val_accuracy"))
        out[name] = row

    if out.get("linclass") and out.get("floor") and out["floor"]["seconds"] and out["linclass"]["seconds"]:
        out["linclass"]["ratio_to_floor_paired"] = _paired_ratios(runs.get("linclass"), runs.get("floor"))
        out["linclass"]["ratio_to_floor_1_thread_paired"] = _paired_ratios(runs.get("linclass"),
                                                                           runs.get("floor_1_thread"))
        tightest = [_tightest(f, f1) for f, f1 in zip(runs.get("floor", []), runs.get("floor_1_thread", []))]
        out["floor_tightest"] = {"seconds": stats.summary([t["seconds"] for t in tightest if t])}
        out["linclass"]["ratio_to_floor_tightest_paired"] = _paired_ratios(runs.get("linclass"), tightest)
        out["linclass"]["ratio_of_medians"] = out["linclass"]["seconds"]["median"] / out["floor"]["seconds"]["median"]
    for name in ("torch", "lbfgs", "sgd"):
        if out.get(name) and out[name]["seconds"] and out.get("floor") and out["floor"]["seconds"]:
            out[name]["ratio_of_medians"] = out[name]["seconds"]["median"] / out["floor"]["seconds"]["median"]

    for name, variant in (raw.get("reproduce") or {}).items():
        good = _ok(variant)
        out[f"reproduce_{name}"] = {
            "seconds": stats.summary(_field(good, "seconds")),
            "max_rss_mb": stats.summary(_field(good, "max_rss_mb")),
            "tree_peak_mb": stats.summary(_field(good, "tree_peak_mb_polled")),
            "processes_seen": max(_field(good, "processes_seen") or [0], key=lambda v: v or 0),
            "errors": [r["error"] for r in variant if r and "error" in r],
        }
    data = raw.get("data") or []
    for kind in ("first", "cached"):
        loads = [pair.get(kind) for pair in data if pair and "error" not in pair]
        out[f"load_{kind}"] = {"seconds": stats.summary(_field(loads, "seconds")),
                               "errors": [r["error"] for r in loads if r and "error" in r]}
    summarize_added(raw, out)
    return out


def _tightest(floor: dict | None, floor_1_thread: dict | None) -> dict | None:
    """Per part, the faster of the default-threads and 1-thread floors of one round."""
    if not floor or not floor_1_thread or "error" in floor or "error" in floor_1_thread:
        return None
    return {"seconds": min(floor["steps_seconds"], floor_1_thread["steps_seconds"])
            + min(floor["validation_seconds"], floor_1_thread["validation_seconds"])}


def _paired_ratios(numerators, denominators) -> dict | None:
    """Median etc. of run-by-run ratios (round i over round i): robust to load drifting between rounds."""
    return stats.summary([a["seconds"] / b["seconds"] for a, b in zip(numerators or [], denominators or [])
                          if a and b and "error" not in a and "error" not in b])


def _acc(row, key="val_accuracy"):
    s = (row or {}).get(key)
    return "-" if not s else f"{s['median']:.4f}"


def _to_target(row, unit_key=None, unit=""):
    if not row:
        return "-"
    s = row.get("to_target_seconds")
    if not s:
        return "never" if row.get("to_target_never") else "-"
    text = f"{s['median']:.2f} s"
    if unit_key == "step" and row.get("to_target_step"):
        text += f" (step {row['to_target_step']['median']:.0f})"
    elif unit_key == "epochs" and row.get("to_target_epochs"):
        text += f" ({row['to_target_epochs']['median']:.0f} epochs)"
    elif unit_key == "max_iter" and row.get("to_target_max_iter"):
        text += f" (max_iter {row['to_target_max_iter']})"
    if row.get("to_target_never"):
        text += f", never in {row['to_target_never']} runs"
    return text


def build_table(args, summary: dict, raw: dict, extra_rows: list = ()) -> str:
    rows = []
    w = wl
    rows.append(f"ten-class workload ({args.dtype}): {w.N_TRAIN:,} x {w.N_FEATURES} train, {w.N_VAL:,} x "
                f"{w.N_FEATURES} val, batch {w.BATCH_SIZE}, {w.EPOCHS} epochs = {w.STEPS:,} steps, "
                f"{w.VALIDATIONS} validations")
    floor = summary.get("floor")
    if floor:
        rows.append(("floor: matrix products only", stats.fmt_seconds(floor["seconds"]), "1.00x", "-", "-"))
        rows.append((f"  {w.STEPS:,} x (fwd 128x785@785x10 + grad 785x128@128x10)",
                     stats.fmt_seconds(floor.get("steps_seconds")), "", "", ""))
        rows.append((f"  {w.VALIDATIONS} x (30,000x785 @ 785x10)",
                     stats.fmt_seconds(floor.get("validation_seconds")), "", "", ""))
    floor1 = summary.get("floor_1_thread")
    if floor1 and floor1["seconds"]:
        rows.append(("  (info) same floor, BLAS limited to 1 thread", stats.fmt_seconds(floor1["seconds"]),
                     _ratio(floor1["seconds"]["median"], floor), "", ""))
        rows.append(("    steps | validations",
                     f"{floor1['steps_seconds']['median']:.2f} s | {floor1['validation_seconds']['median']:.2f} s",
                     "", "", ""))
    tightest = (summary.get("floor_tightest") or {}).get("seconds")
    if tightest:
        versus = ((summary.get("linclass") or {}).get("ratio_to_floor_tightest_paired") or {}).get("median")
        rows.append(("  (info) tightest floor: faster threading per part", stats.fmt_seconds(tightest),
                     _ratio(tightest["median"], floor) + (f" (linclass / this: {versus:.2f}x)" if versus else ""),
                     "", ""))
    lin = summary.get("linclass")
    if lin:
        paired = lin.get("ratio_to_floor_paired")
        ratio = "-" if not paired else (f"{paired['median']:.2f}x" if paired["n"] == 1 else
                                        f"{paired['median']:.2f}x [{paired['min']:.2f}-{paired['max']:.2f}]")
        rows.append(("linclass softmax-50", stats.fmt_seconds(lin["seconds"]), ratio, _acc(lin),
                     _to_target(lin, "step")))
        rows.append(("  preprocess: ten_class_split (not in the row above)",
                     stats.fmt_seconds(summary["preprocess"]["seconds"], 3), "", "", ""))
    labels = {"torch": f"PyTorch loop (float32, {raw.get('torch_threads')} threads)",
              "lbfgs": "sklearn LogisticRegression lbfgs (defaults: C=1, max_iter=100)",
              "sgd": "sklearn SGDClassifier log_loss (defaults)"}
    units = {"torch": "step", "lbfgs": "max_iter", "sgd": "epochs"}
    if args.skip_peers:
        rows.append(("peers", "skipped (--skip-peers)", "", "", ""))
    for name, missing in (raw.get("peers_missing") or {}).items():
        rows.append((name, missing, "", "", ""))
    for name in ("torch", "lbfgs", "sgd"):
        row = summary.get(name)
        if not row:
            continue
        ratio = f"{row['ratio_of_medians']:.2f}x" if row.get("ratio_of_medians") else "-"
        rows.append((labels[name], stats.fmt_seconds(row["seconds"]), ratio, _acc(row),
                     _to_target(row, units[name])))
    rows.append("full reproduction: `linclass reproduce` (fresh process; the 3rd column is peak RSS per process)")
    support = raw.get("reproduce_support")
    if args.skip_reproduce:
        rows.append(("linclass reproduce", "skipped (--skip-reproduce)", "", "", ""))
    elif support and not support.get("available"):
        rows.append(("linclass reproduce", "not available", "", "", ""))
    else:
        for name, label in (("default", "linclass reproduce"), ("jobs2", "linclass reproduce --jobs 2"),
                            ("jobs2_float32", "linclass reproduce --jobs 2 --dtype float32")):
            row = summary.get(f"reproduce_{name}")
            if row is None or (not row["seconds"] and not row["errors"]):
                rows.append((label, "not available", "", "", ""))
                continue
            if not row["seconds"]:
                rows.append((label, "failed: " + row["errors"][0][:60], "", "", ""))
                continue
            memory = stats.fmt_mb(row["max_rss_mb"])
            if row.get("processes_seen", 0) > 1 and row.get("tree_peak_mb"):
                memory += f" ({row['processes_seen']} processes, tree {row['tree_peak_mb']['median']:.0f} MB)"
            rows.append((label, stats.fmt_seconds(row["seconds"]), memory, "", ""))
    rows.append("data: load_mnist() in a fresh process")
    for kind, label in (("first", "MNIST first load (.gz, empty cache)"), ("cached", "MNIST cached load")):
        row = summary.get(f"load_{kind}")
        if row and row["seconds"]:
            rows.append((label, stats.fmt_seconds(row["seconds"], 3), "", "", ""))
        elif row and row["errors"]:
            rows.append((label, "failed: " + row["errors"][0][:60], "", "", ""))
    rows.extend(extra_rows)
    rows += added_rows(summary)
    return stats.render_table(rows, ("row", "median [min-max]", "vs floor | peak RSS", "val acc", "to 91.5% val acc"))


def _ratio(value, floor):
    if not floor or not floor.get("seconds"):
        return ""
    return f"{value / floor['seconds']['median']:.2f}x"
