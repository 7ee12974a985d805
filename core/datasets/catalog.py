"""What ``numpynet datasets`` shows: each known dataset, where it is or would come from, its size.

Only headers are read, so the catalogue is quick even with large files.
"""
import numpy as np

from ..errors import DatasetError
from .idx import read_shape
from .idx_sets import find_idx_set
from .quickdraw import find_category
from .sources import IDX_SOURCES, QUICKDRAW, QUICKDRAW_MIRRORS, cache_dir, search_dirs
from .synthetic import NAME as SYNTHETIC


def catalog(root=None):
    """What ``load`` would find for each dataset, and where it would download what is missing.

    Args:
        root: a folder to look in first, as ``load`` takes it.

    Returns:
        A list of dicts, one per dataset: name, title, found (folder or None), mirrors,
        download_to, images (count or None), bytes (on disk if found, else to download; None when
        unknown), classes, problem (why a found copy is unreadable, or None), and two strings for
        a table: ``where`` and ``size``.
    """
    return [*(_idx_entry(s, root) for s in IDX_SOURCES.values()), _quickdraw_entry(root),
            _synthetic_entry()]


def catalog_text(entries=None):
    """The catalogue as a table for a terminal (what ``numpynet datasets`` prints).

    Args:
        entries: ``catalog()``'s list, or None to make it now.
    """
    entries = catalog() if entries is None else entries
    rows = [("dataset", "size", "where")] + [(e["name"], e["size"], e["where"]) for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows)


def _entry(name, title, found, mirrors, download_to, images, size, classes, problem=None, size_text=None):
    where = found or f"not here; would download from {mirrors[0]}"
    if problem:
        where += f" (unreadable: {problem})"
    if size_text is None:
        size_text = f"{images:,} images, {_megabytes(size)}" if images is not None else _megabytes(size)
    return {"name": name, "title": title, "found": found, "mirrors": list(mirrors),
            "download_to": download_to, "images": images, "bytes": size, "classes": classes,
            "problem": problem, "where": where, "size": size_text}


def _idx_entry(source, root):
    folder, paths, _ = find_idx_set(source, root)
    images, size, problem = sum(source.counts), sum(f.size for f in source.files), None
    if folder is not None:
        size = sum(p.stat().st_size for p in paths)
        try:
            images = read_shape(paths[0])[0] + read_shape(paths[2])[0]
        except DatasetError as e:
            images, problem = None, str(e)
    return _entry(source.name, source.title, str(folder) if folder else None, source.mirrors,
                  str(cache_dir(source.name)), images, size, len(source.class_names), problem)


def _quickdraw_entry(root):
    """Every category file found locally (first folder wins, as when loading)."""
    files = {}
    for folder in search_dirs(QUICKDRAW, root):
        if folder.is_dir():
            for path in sorted(folder.glob("*.npy")):
                files.setdefault(path.stem, find_category(path.stem, root))
    images, problems = 0, []
    for path in files.values():
        try:
            images += len(np.load(path, mmap_mode="r", allow_pickle=False))
        except (ValueError, OSError, EOFError, TypeError) as e:
            problems.append(f"{path.name}: {e}")
    found = ", ".join(sorted({str(p.parent) for p in files.values()})) or None
    title = (f"Quick, Draw! bitmaps: {len(files)} categories here ({', '.join(sorted(files)[:5])}"
             f"{', ...' if len(files) > 5 else ''})" if files else "Quick, Draw! bitmaps (345 categories)")
    return _entry(QUICKDRAW, title, found, [f"{m}<category>.npy" for m in QUICKDRAW_MIRRORS],
                  str(cache_dir(QUICKDRAW)), images if files else None,
                  sum(p.stat().st_size for p in files.values()) if files else None,
                  len(files) or None, "; ".join(problems) or None,
                  None if files else "100,000+ images, ~100 MB per category")


def _synthetic_entry():
    return _entry(SYNTHETIC, "digits rendered offline from the fonts at hand", "generated on demand",
                  (), None, None, 0, 10, size_text="any number, nothing to download")


def _megabytes(size):
    if size is None:
        return "?"
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB" if size else "-"
