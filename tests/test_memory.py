"""The process keeps large freed blocks returnable to the system."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from components.memory import return_large_blocks_to_the_system
if {set_threshold}:
    assert return_large_blocks_to_the_system()

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

import random
base = rss_mb()
first = bytes(8 * 1024 * 1024)
del first                                   # raises glibc's dynamic threshold to 8 MB
blocks = [bytearray(3 * 1024 * 1024) for _ in range(60)]
for block in blocks:
    block[::4096] = b"x" * len(block[::4096])  # touch every page
keep = [bytearray(64 * 1024) for _ in range(60)]  # small survivors between the big blocks
blocks = [bytearray(3 * 1024 * 1024) for _ in range(60)] and None
print(round(rss_mb() - base))
"""


def resident_growth_mb(set_threshold: bool) -> int:
    """Megabytes still resident after photo-sized buffers were allocated and freed."""
    code = SCRIPT.format(root=str(PROJECT_ROOT), set_threshold=set_threshold)
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt exists on Linux only")
def test_freed_large_buffers_go_back_to_the_system():
    assert resident_growth_mb(True) < 30  # glibc's default keeps about 180 MB of it resident
