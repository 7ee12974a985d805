"""Where the folders numpynet ships are: ``assets/`` (icons, style sheet) and ``saved_models/`` (pretrained models).

In a checkout they are top-level folders beside ``core/``; a wheel carries them
inside the package, in ``core/_shipped/`` (setup.py's build hook puts them
there). ``shipped`` is the one answer for both, so an installed app opens
offline on its pretrained model. ``model_path`` lets a shipped model be named
by its folder name alone: ``load_model("lenet5-mnist")``.
"""
import os
from pathlib import Path

from .model_folder import user_path

PACKAGED = Path(__file__).resolve().parent / "_shipped"   # in an installed wheel
CHECKOUT = Path(__file__).resolve().parent.parent          # in a source tree (or an editable install)


def shipped(name):
    """The shipped folder ``name`` ('assets' or 'saved_models'): the installed copy, else the checkout's."""
    packaged = PACKAGED / name
    return packaged if packaged.is_dir() else CHECKOUT / name


def shipped_models():
    """Names of the pretrained models that numpynet ships, sorted."""
    folder = shipped("saved_models")
    return sorted(p.name for p in folder.iterdir() if (p / "model.json").is_file()) if folder.is_dir() else []


def model_path(path):
    """The model folder ``path`` means: the path itself when it exists or is more than a bare name,
    else the shipped model of that name. Anything else stays the path, which loading then refuses."""
    given = user_path(path)
    text = os.fspath(path)
    bare = os.path.basename(text) == text and text not in (".", "..") and not text.startswith("~")
    if os.path.lexists(given) or not bare:
        return given
    candidate = shipped("saved_models") / given.name
    return candidate if (candidate / "model.json").is_file() else given

