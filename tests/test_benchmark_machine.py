"""The benchmarks' first lines name the BLAS kernels the products ran on, and an override of them: with
OpenBLAS forced onto older kernels a product here took twice as long (``benchmarks/machine.py``)."""
import os
import platform
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import machine  # noqa: E402


def blas_line(**overrides):
    """``machine.blas()`` as a fresh Python prints it with exactly ``overrides`` of OpenBLAS's variables set."""
    env = {k: v for k, v in os.environ.items() if k not in machine.OVERRIDES} | overrides
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


def test_the_processor_is_named_with_its_family_and_model(tmp_path, monkeypatch):
    """A VM's "AMD EPYC" is the same name on processors whose products ran twice as fast as each other's."""
    info = tmp_path / "cpuinfo"
    core = "processor\t: {}\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n"
    info.write_text(core.format(0) + "\n" + core.format(1))
    monkeypatch.setattr(machine, "CPUINFO", info)
    assert machine.processor() == "AMD EPYC (family 26, model 2)"
    monkeypatch.setattr(machine, "CPUINFO", tmp_path / "missing")
    assert machine.processor() == (platform.processor() or platform.machine())
