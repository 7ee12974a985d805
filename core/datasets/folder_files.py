"""Which files a folder of class subfolders holds: the one listing that loading and format-sniffing share."""
from ..errors import DatasetError


def class_folders(root):
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder; expected one subfolder of images per class")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DatasetError(f"{root}: has no class subfolders; put each class's images in "
                           f"a subfolder named after the class")
    return folders


def class_files(folder):
    """The files under ``folder``, sorted, but none that is hidden or inside a hidden folder
    (.ipynb_checkpoints, .thumbnails hold copies); a broken link is kept, so it is reported."""
    return sorted(p for p in folder.rglob("*")
                  if (p.is_file() or p.is_symlink() and not p.exists())
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))
