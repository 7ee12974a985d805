"""Remembered choices (QSettings), in one place so every key is spelled once.

Values are stored as JSON text: QSettings turns one-element lists into
strings and numbers into strings on some platforms, JSON comes back as written.
Tests pass their own ``QSettings(path, IniFormat)`` so a user's settings are
never touched.
"""
import json
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

ORGANIZATION = "numpynet"
APPLICATION = "numpynet-studio"
MAX_RECENT = 8


def documents_folder():
    """The user's documents folder (where a first Save dialog starts), else their home folder."""
    documents = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


class Settings:
    def __init__(self, qsettings=None):
        self.q = qsettings if qsettings is not None else QSettings()

    def get(self, key, default=None):
        raw = self.q.value(key)
        if raw is None:
            return default
        try:
            return json.loads(raw)
        except (TypeError, ValueError):
            return default

    def set(self, key, value):
        self.q.setValue(key, json.dumps(value))

    def get_bytes(self, key):
        """Window geometry and dock state are QByteArrays; they stay binary."""
        return self.q.value(key)

    def set_bytes(self, key, value):
        self.q.setValue(key, value)

    def recent_models(self):
        return [p for p in self.get("models/recent", []) if isinstance(p, str)]

    def add_recent_model(self, path):
        path = str(path)
        recent = [path] + [p for p in self.recent_models() if p != path]
        self.set("models/recent", recent[:MAX_RECENT])

    def sync(self):
        self.q.sync()
