"""The line each benchmark prints first: the machine, and the BLAS kernels NumPy's products run on.

OpenBLAS picks its kernels for the processor it finds, unless
OPENBLAS_CORETYPE names others (and OPENBLAS_L2_SIZE its cache size). Some
machines set both to dodge old OpenBLAS bugs: on this project's AMD EPYC,
OPENBLAS_CORETYPE=Haswell ran a product with AVX2 kernels at about half the
speed of the AVX-512 ("SkylakeX") ones OpenBLAS picks by itself (alexnet_mini's
second layer's product, one thread: 2.7-3.1 against 1.2-1.7 ms). Every figure
depends on which ran, so the line names it, and what OpenBLAS would pick
without the override.
"""
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
CPUINFO = Path("/proc/cpuinfo")
_ASK = "import numpy, threadpoolctl; print(*[i['architecture'] for i in threadpoolctl.threadpool_info() " \
       "if i['internal_api'] == 'openblas'])"


def describe(extra=""):
    """The machine line: processor, cores, Python, NumPy (and ``extra``), then the BLAS in use."""
    return (f"machine: {processor()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, NumPy {np.__version__}{extra}\n{blas()}")


def processor():
    """The processor's name with its family and model, where Linux says them: a VM's name ("AMD EPYC") stays the
    same across processor generations whose figures differ twofold."""
    try:
        lines = CPUINFO.read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    fields = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines if ":" in line)}
    name = fields.get("model name", platform.machine())
    return f"{name} (family {fields['cpu family']}, model {fields['model']})" if "cpu family" in fields else name


def blas():
    """Which BLAS NumPy multiplies with, and with which kernels; an override of them named, with what it replaced."""
    found = [i for i in threadpool_info() if i["user_api"] == "blas"]
    if not found:
        return "BLAS: none found by threadpoolctl"
    info = next((i for i in found if "numpy" in i["filepath"]), found[0])   # NumPy's, beside SciPy's or others
    line = f"BLAS: {info['internal_api']} {info['version']}"
    if info["internal_api"] != "openblas":
        return line
    line += f", {info['architecture']} kernels"
    set_here = [f"{name}={os.environ[name]}" for name in OVERRIDES if name in os.environ]
    if set_here:
        line += (f", as {' and '.join(set_here)} ask (without them OpenBLAS picks {native_kernels()} here; "
                 f"`env -u {' -u '.join(OVERRIDES)}` runs a command without them)")
    return line


def native_kernels():
    """The kernels OpenBLAS picks for this processor by itself: asked of a Python without the overrides."""
    env = {k: v for k, v in os.environ.items() if k not in OVERRIDES}
    done = subprocess.run([sys.executable, "-c", _ASK], env=env, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"
