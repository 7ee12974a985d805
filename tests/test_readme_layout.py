"""The README's layout section names every module and package of core/ and gui/: a newcomer reading it
finds every file, and a file added without a line there fails here."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def layout_block():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"## How the code is laid out\n\n```\n(.*?)```", text, re.S)
    assert match, "README.md has no layout section"
    return match.group(1)


def top_level_entries(package):
    """core/x.py -> x.py, core/layers/ -> layers/ (one level: a subpackage's own files are its business)."""
    folder = ROOT / package
    files = [p.name for p in folder.glob("*.py") if p.name != "__init__.py"]
    packages = [p.name + "/" for p in folder.iterdir() if (p / "__init__.py").exists()]
    return files + packages


def test_every_module_of_core_and_gui_is_in_the_readme_layout():
    block = layout_block()
    missing = [f"{package}/{name}" for package in ("core", "gui") for name in top_level_entries(package)
               if not re.search(rf"(?<![\w/]){re.escape(name)}", block)]
    assert not missing, "not in README's layout section: " + ", ".join(missing)


def test_the_layout_names_no_module_that_is_gone():
    block = layout_block()
    named = set(re.findall(r"\b(\w+\.py)\b", block))
    existing = {p.name for p in (ROOT / "core").rglob("*.py")} | {p.name for p in (ROOT / "gui").rglob("*.py")}
    assert not named - existing, f"README names modules that do not exist: {sorted(named - existing)}"
