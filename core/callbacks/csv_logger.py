"""CSVLogger: one row per epoch of the logs, in a CSV file (Keras's meaning and defaults)."""
import csv
from pathlib import Path

from .base import Callback


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row: ``epoch`` (from 0, as Keras) then the keys in sorted order.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: add to an existing file (its header kept) instead of replacing it.

    The file is flushed after every row, so a killed run keeps its epochs.
    """

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.separator, self.append = Path(filename), separator, bool(append)
        self.file = self.writer = None

    def on_train_begin(self, logs=None):
        has_rows = self.append and self.filename.is_file() and self.filename.stat().st_size > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self.writer, self.header_written = None, has_rows

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.writer is None:
            fields = ["epoch", *sorted(logs)]
            self.writer = csv.DictWriter(self.file, fields, delimiter=self.separator, extrasaction="ignore",
                                         restval="NA")
            if not self.header_written:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **logs})
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
            self.file = None
