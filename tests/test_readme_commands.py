"""The README's newcomer commands are what CI runs: keep them from drifting apart."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = ci.split("# The README's test command, verbatim:\n", 1)[1].strip()
    assert command in readme


def test_readme_shows_how_to_open_the_app():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin/numpynet-studio" in readme
