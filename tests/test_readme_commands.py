"""The README's newcomer commands are what CI runs: keep them from drifting apart."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:   # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def _readme_command(ci):
    """The line after the marker: CI goes on after it (the wheel check), the README's command is that line."""
    return ci.split("# The README's test command, verbatim:\n", 1)[1].splitlines()[0].strip()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = _readme_command(ci)
    assert command in readme


def test_readme_shows_how_to_open_the_app():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/numpynet-studio" in readme


def test_ci_lints_with_ruff_before_the_tests():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = _readme_command(ci)
    assert "ruff check ." in command
    assert command.index("ruff check .") < command.index("pytest")
    assert 'pip install -q -e ".[test]"' in command   # the test extra brings ruff


def test_the_style_is_written_where_ruff_reads_it():
    """The line length and rule set live in pyproject.toml, and ruff is in the test extra."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["ruff"]["line-length"] == 120
    assert {"E", "F", "W", "B", "BLE"} <= set(config["tool"]["ruff"]["lint"]["select"])
    assert any(req.startswith("ruff") for req in config["project"]["optional-dependencies"]["test"])


def test_the_code_passes_ruff():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is in the test extra: pip install -e '.[test]'"
    result = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
