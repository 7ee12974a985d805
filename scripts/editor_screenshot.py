"""Screenshot of the architecture editor with LeNet-5 loaded, at a realistic window size.

    python scripts/editor_screenshot.py                      # docs/screenshots/editor.png
    python scripts/editor_screenshot.py --invalid /tmp/x.png # also: a kernel too large for its input

Uses saved_models/lenet5-mnist when it exists, else the zoo's untrained LeNet-5. Runs offscreen.
"""
import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import load_model, zoo  # noqa: E402
from gui.app import create_app  # noqa: E402
from gui.panels.architecture import ArchitecturePanel  # noqa: E402
from gui.state import AppState  # noqa: E402

SIZE = (1300, 800)


def lenet():
    saved = ROOT / "saved_models" / "lenet5-mnist"
    if (saved / "model.json").exists():
        return load_model(saved), saved
    return zoo.build("lenet5", seed=0), None


def grab(app, panel, path):
    app.processEvents()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not panel.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=ROOT / "docs" / "screenshots" / "editor.png")
    parser.add_argument("--invalid", help="also save the editor with an impossible kernel here")
    args = parser.parse_args(argv)
    app = create_app([])
    state = AppState()
    state.set_model(*lenet())
    panel = ArchitecturePanel(state)
    panel.ask = lambda title, text: True  # a saved model asks before its first change
    panel.resize(*SIZE)
    panel.show()
    panel.select_layer(2)                 # the second convolution: the form has every kind of field
    grab(app, panel, args.out)
    if args.invalid:
        panel.set_field(panel.doc.items[2].uid, "kernel_size", [13, 13])
        grab(app, panel, args.invalid)


if __name__ == "__main__":
    main()
