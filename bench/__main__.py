"""``make bench``: run every benchmark module and write the results to docs/benchmarks.md.

``python -m bench [topic ...]`` runs only the named topics (the part of the module name after ``bench_``);
sections of topics not run are kept from the previous file.
"""

import importlib
import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
OUTPUT = BENCH_DIR.parent / "docs" / "benchmarks.md"
SECTION = re.compile(r"^<!-- bench:(?P<topic>[\w-]+) -->\n(?P<body>.*?)^<!-- /bench:(?P=topic) -->\n", re.M | re.S)


def main(argv: list[str]) -> int:
    topics = sorted(path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py"))
    wanted = argv or topics
    unknown = sorted(set(wanted) - set(topics))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(topics)}", file=sys.stderr)
        return 2
    previous = {m["topic"]: m["body"] for m in SECTION.finditer(OUTPUT.read_text())} if OUTPUT.exists() else {}
    sections = dict(previous)
    for topic in wanted:
        print(f"== {topic}", flush=True)
        module = importlib.import_module(f"bench.bench_{topic}")
        sections[topic] = module.run().rstrip() + "\n"
        print(sections[topic], flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    header = (
        "# Benchmarks\n\n"
        'Produced by `make bench` (or `make bench BENCH_ARGS="<topic>"` for one topic) on '
        f"{machine}. Machines are shared and noisy: read medians and ratios, not absolute figures.\n"
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
    )
    body = "".join(
        f"<!-- bench:{topic} -->\n{sections[topic]}<!-- /bench:{topic} -->\n\n" for topic in sorted(sections)
    )
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(header + body)
    print(f"written to {OUTPUT.relative_to(BENCH_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
