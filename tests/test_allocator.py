"""Importing core keeps freed memory for reuse: the next batch's arrays do not page-fault their memory in again."""
import subprocess
import sys
import textwrap

import pytest

from core import allocator

# Allocates a 40 MB array (vgg_mini's largest at batch 256), frees it, and does so again: the page faults of
# the last time show whether the freed block came back (a few) or went to the kernel (thousands, or one a 2 MB
# huge page where those are on). glibc alone reuses blocks up to 32 MB once it has freed one that large.
ROUNDS = textwrap.dedent("""
    import resource, sys
    if sys.argv[1] == "core":
        import core
    import numpy as np
    faults = []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        a = np.ones(10_000_000, np.float32)
        del a
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print(faults[-1])
""")


def _faults_of_a_repeated_array(imported):
    run = subprocess.run([sys.executable, "-c", ROUNDS, imported], capture_output=True, text=True, check=True)
    return int(run.stdout)


@pytest.mark.skipif(allocator._glibc_mallopt() is None, reason="glibc's allocator only: elsewhere nothing is tuned")
def test_after_importing_core_a_freed_array_is_reused_without_page_faults():
    assert allocator.keep_freed_memory() is True   # glibc took both thresholds
    plain, tuned = _faults_of_a_repeated_array("numpy"), _faults_of_a_repeated_array("core")
    assert plain >= 8, f"NumPy alone: {plain} faults (the block went back to the kernel)"
    assert tuned <= plain / 4, f"{tuned} faults after importing core, {plain} without"


def test_elsewhere_than_glibc_nothing_is_tuned(monkeypatch):
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator._glibc_mallopt() is None
