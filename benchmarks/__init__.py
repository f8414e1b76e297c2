"""The linclass benchmark suite (run it with `python -m benchmarks`; see benchmarks/README.md)."""
