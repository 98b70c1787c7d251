"""Runs every benchmark in bench/ (bench_*.py) in turn, after a note of the machine they ran on.

Run from anywhere: python bench/run_all.py [name-filter ...]
Each benchmark runs in its own process with this interpreter, from the project root; its output
is streamed as it comes. Exits non-zero when any benchmark did.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.machine()


def _ram_gb() -> str:
    try:
        match = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        return f"{int(match.group(1)) / 1024 / 1024:.1f} GB" if match else "?"
    except OSError:
        return "?"


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except Exception:  # not installed, or no version
        return "not installed"


def machine() -> list[str]:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return [
        f"CPU:        {_cpu_model()}",
        f"cores:      {cores} ({usable} usable by this process)",
        f"RAM:        {_ram_gb()}",
        f"OS:         {platform.platform()}",
        f"Python:     {platform.python_version()} ({sys.executable})",
        f"OpenCV:     {_version('cv2')}",
        f"Streamlit:  {_version('streamlit')}",
        f"NumPy:      {_version('numpy')}",
        f"Pillow:     {_version('PIL')}",
    ]


def main() -> int:
    filters = sys.argv[1:]
    benches = sorted(p for p in BENCH_DIR.glob("bench_*.py") if not filters or any(f in p.name for f in filters))
    print("=" * 78)
    for line in machine():
        print(line)
    print(f"benchmarks: {', '.join(p.name for p in benches)}")
    print("=" * 78, flush=True)
    failures = []
    started_all = time.perf_counter()
    for path in benches:
        print(f"\n### {path.name}", flush=True)
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-u", str(path)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        try:
            for line in process.stdout:
                print(line, end="", flush=True)
            code = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait()
            raise
        print(f"### {path.name}: exit {code}, {time.perf_counter() - started:.0f} s", flush=True)
        if code != 0:
            failures.append(path.name)
    print()
    print(f"{len(benches)} benchmark(s) in {time.perf_counter() - started_all:.0f} s; "
          + (f"non-zero exit: {', '.join(failures)}" if failures else "all exited 0"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
