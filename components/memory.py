"""Keeps the process's memory returnable to the system (glibc only; a no-op elsewhere).

glibc raises its mmap threshold after a large block is freed, so later multi-megabyte buffers
(uploaded photos, request bodies) come from heap arenas it rarely gives back. Measured here
after a 128-photo batch: 587 MB resident with the default, 305 MB with a fixed threshold.
Fixing the threshold is what MALLOC_MMAP_THRESHOLD_ does; hosts that do not let us set the
environment before start get it through mallopt().
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 128 * 1024


@functools.cache
def return_large_blocks_to_the_system() -> bool:
    """Sets glibc's mmap and trim thresholds once per process; True if it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, THRESHOLD_BYTES))
