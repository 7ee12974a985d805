"""Downloads that are trusted only once complete and verified.

Each file is streamed into a hidden temporary file beside its destination,
checked (published md5, or a structure check where no md5 is published) and
only then renamed into place, so a killed, cancelled or corrupt download
leaves nothing that a later run would mistake for data. Mirrors are tried in
turn. urllib only: the core has no dependencies beyond NumPy and Pillow.
"""
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import DatasetError

CHUNK = 1 << 16
TIMEOUT = 30          # seconds without an answer before a mirror counts as down
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, ValueError)


class MirrorError(Exception):
    """One mirror failed; the next one is tried."""


@dataclass(frozen=True)
class Download:
    urls: tuple            # the same file on each mirror, tried in order
    dest: Path
    md5: str = None        # published md5 of the bytes, when there is one
    size: int = 0          # expected bytes, for a progress total before the server says
    check: object = None   # check(path) raises DatasetError if the file is not what we want


def fetch_all(downloads, progress=None):
    """Fetch each Download in turn; returns the URL each came from.

    ``progress(bytes_done, bytes_total)`` sees one running count over all the
    files (``bytes_total`` is 0 while unknown). If it raises, the download
    stops, nothing is kept and the exception propagates: that is how a GUI
    cancels.
    """
    urls, done_before = [], 0
    for i, item in enumerate(downloads):
        later = sum(d.size for d in downloads[i + 1:])
        report = None if progress is None else _running_total(progress, done_before, item.size, later)
        urls.append(fetch(item, report))
        done_before += item.dest.stat().st_size
    return urls


def _running_total(progress, before, hint, later):
    def report(done, total):
        size = total or hint
        progress(before + done, before + size + later if size else 0)
    return report


def fetch(item, progress=None):
    """Download ``item`` from the first mirror that delivers a verified file; returns its URL."""
    try:
        item.dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _unwritable(item.dest.parent, e) from e
    failures = []
    for url in item.urls:
        try:
            _fetch_one(url, item, progress)
            return url
        except MirrorError as e:
            failures.append(f"{url}: {e}")
    raise DatasetError(f"could not download {item.dest.name}; every mirror failed:\n  "
                       + "\n  ".join(failures))


def _fetch_one(url, item, progress):
    try:
        fd, tmp = tempfile.mkstemp(dir=item.dest.parent, prefix=f".{item.dest.name}.", suffix=".part")
    except OSError as e:
        raise _unwritable(item.dest.parent, e) from e
    try:
        os.close(fd)
        with open(tmp, "wb") as out:
            digest = _stream(url, out, progress)
        if item.md5 and digest != item.md5:
            raise MirrorError(f"md5 {digest} differs from the published {item.md5}")
        if item.check is not None:
            _run_check(item.check, tmp)
        os.replace(tmp, item.dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _unwritable(folder, error):
    return DatasetError(f"cannot write to {folder} ({error.strerror or error}); free some space "
                        f"or set NUMPYNET_CACHE to a writable folder")


def _run_check(check, path):
    try:
        check(path)
    except DatasetError as e:
        raise MirrorError(f"the file is not valid ({e})") from e


def _stream(url, out, progress):
    """Copy the body of ``url`` to ``out``; returns its md5. Progress runs outside the
    network error handling, so an exception it raises is never mistaken for a bad mirror."""
    md5 = hashlib.md5()
    response = _open(url)
    with response:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        if progress is not None:
            progress(0, total)
        while chunk := _read(response, url):
            _write(out, chunk)
            md5.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    if total and done != total:
        raise MirrorError(f"the connection closed after {done:,} of {total:,} bytes")
    return md5.hexdigest()


def _open(url):
    request = urllib.request.Request(url, headers={"User-Agent": "numpynet-studio"})
    try:
        return urllib.request.urlopen(request, timeout=TIMEOUT)
    except _NETWORK_ERRORS as e:
        raise MirrorError(_reason(e)) from e


def _read(response, url):
    try:
        return response.read(CHUNK)
    except _NETWORK_ERRORS as e:
        raise MirrorError(f"the transfer broke off ({_reason(e)})") from e


def _write(out, chunk):
    try:
        out.write(chunk)
    except OSError as e:
        raise _unwritable(out.name, e) from e


def _reason(e):
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        return f"unreachable ({e.reason})"
    if isinstance(e, http.client.IncompleteRead):
        return f"connection closed early, {len(e.partial):,} bytes into the last read"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
