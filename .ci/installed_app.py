"""Run by the python of a fresh venv holding only the wheel: the app must open offline on its pretrained
LeNet-5 and style, both read from inside the installed package, with no checkout anywhere near."""
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings

import core
from gui.app import create_app
from gui.main_window import MainWindow

app = create_app([])
settings = QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.IniFormat)
window = MainWindow(settings=settings, autoload_data=False)
installed = Path(core.__file__).resolve().parent / "_shipped"
opened = Path(window.state.model_path or "")
expected = installed / "saved_models" / "lenet5-mnist"
problems = []
if opened != expected:
    problems.append(f"opened {opened or 'no pretrained model'}, not {expected}")
if not app.styleSheet():
    problems.append("the style sheet was not found")
if app.windowIcon().isNull():
    problems.append("the window icon is missing")
print("; ".join(problems) or f"the installed app opened {opened.name} with its style")
sys.exit(1 if problems else 0)
