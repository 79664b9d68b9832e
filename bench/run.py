"""Run every benchmark in bench/ (`make bench`). Each prints its own table and writes its JSON figures to
bench/results/ (git-ignored); see bench/README.md for what each measures and the figures recorded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
#: Each benchmark is a script run with this Python; extra arguments are passed to every one of them.
BENCHMARKS = ["seal_cost.py", "export_bench.py"]


def main(argv: list[str]) -> int:
    failed = []
    for script in BENCHMARKS:
        print(f"== {script}", flush=True)
        completed = subprocess.run([sys.executable, str(BENCH / script), *argv], check=False)
        if completed.returncode != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
