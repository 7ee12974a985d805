"""The benchmarks' first line names the BLAS kernels the products ran on, and an override of them: the
same code read twice as slow with OpenBLAS forced onto older kernels (``benchmarks/machine.py``)."""
import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def blas_line(**overrides):
    """``machine.blas()`` as a fresh Python prints it with exactly ``overrides`` of OpenBLAS's variables set."""
    env = {k: v for k, v in os.environ.items() if k not in OVERRIDES} | overrides
    code = "import machine; print(machine.blas())"
    done = subprocess.run([sys.executable, "-c", code], cwd=BENCHMARKS, env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def test_without_an_override_the_line_names_the_kernels_openblas_picked():
    line = blas_line()
    assert line.startswith("BLAS: openblas ") and line.endswith(" kernels"), line
    assert "ask" not in line


def test_an_override_is_named_with_the_kernels_it_replaced():
    native = blas_line().split(", ")[-1].removesuffix(" kernels")
    line = blas_line(OPENBLAS_CORETYPE="Haswell", OPENBLAS_L2_SIZE="512")
    assert ", Haswell kernels, as OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE=512 ask" in line, line
    assert f"without them OpenBLAS picks {native} here" in line, line
