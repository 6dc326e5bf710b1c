"""Benchmarks: each ``bench/bench_<topic>.py`` has ``run() -> str`` returning a Markdown section."""
