"""`linclass reproduce`: every experiment of the course report, into one folder."""

from __future__ import annotations

import sys

from ..report import parse_tasks, reproduce


def cmd_reproduce(args) -> int:

    summary = reproduce(args.out, tasks=parse_tasks(args.only), seed=args.seed, dtype=args.dtype, jobs=args.jobs,
                        force=args.force, data_dir=args.data_dir, progress=args.progress,
                        max_epochs=args.max_epochs_override, resume=args.resume)
    if summary is None:
        print(f"linclass: interrupted; the finished runs are saved in {args.out}/ (marked incomplete). "
              f"Resume with: linclass reproduce --resume --out {args.out}", file=sys.stderr)
        return 130
    print(f"report written to {args.out}/report.md and {args.out}/report.html "
          f"({summary['environment']['wall_seconds']:.1f} s); every number is in {args.out}/summary.json")
    return 0
