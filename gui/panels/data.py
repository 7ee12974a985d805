"""Data panel: choose a dataset, load it off the GUI thread, look at it.

Output: ``state.set_dataset(ds)`` and ``validationFractionChanged`` (the window
hands it to Training); both are locked while a run trains on the loaded data.
``ds`` is the loaded dataset, or a balanced subset of its training images
("Training images: 100 per class", cut again at once when changed, no reload),
which the Loaded box, the counts and Training all show as such.
Loading and downloading run in a ``TaskWorker`` on a QThread with a progress
bar; Cancel raises inside the download's progress callback, which leaves
nothing half-written behind.
"""
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox, QStackedWidget,
                               QVBoxLayout, QWidget)

from core.datasets.subset import per_class

from ..format import esc, shape_text
from ..messages import show_error
from ..panel_settings import PanelSettings, Setting
from ..tips import explain
from ..views.class_counts import ClassCounts
from ..views.data_summary import DataSummaryView
from ..views.sample_grid import SampleGrid
from ..worker import Job, TaskWorker

SOURCES = {"mnist": "MNIST (handwritten digits)", "fashion-mnist": "Fashion-MNIST (clothing)",
           "kmnist": "KMNIST (Japanese cursive)", "quickdraw": "Quick, Draw! categories",
           "folder": "Folder of images", "synthetic": "Synthetic digits (offline)"}
SAMPLE_COUNT = 40
PER_CLASS = {0: "All images", 10: "10 per class", 100: "100 per class", 1000: "1,000 per class"}
COLOURS = {"auto": "Follow the images", "grey": "Grey (1 channel)", "colour": "Colour (3 channels)"}
SUBSET_SEED = 0     # one seed: "100 per class" is the same 1,000 images in every session
SIZES = [0, 16, 28, 32, 48, 64, 96, 128]   # pixels a side; 0: follow the images
SETTINGS = PanelSettings(
    "data/choice",
    source=Setting("mnist", "load: which dataset (a key of SOURCES)"),
    categories=Setting("cat, dog, apple", "load: the Quick, Draw! categories"),
    folder=Setting("", "load: the folder of class subfolders"),
    count=Setting(10_000, "load: how many synthetic digits to draw"),
    colour=Setting("auto", "load: a folder's images in grey, colour, or as most of them are (a key of COLOURS)"),
    size=Setting(0, "load: a folder's images resized to this many pixels a side; 0 follows the images"),
    per_class=Setting(0, "the training images kept per class (a key of PER_CLASS; 0 keeps all)"),
    validation=Setting(0.1, "the Training panel's validation split (a fraction, shown in percent)", scale=100),
)


def load_options(choice):
    """What the loader of ``choice`` (a ``DataPanel.choice()``) is given: the form's values, categories split."""
    return {"folder": choice["folder"], "count": choice["count"],
            "categories": [c.strip() for c in choice["categories"].split(",") if c.strip()],
            "grayscale": {"auto": None, "grey": True, "colour": False}[choice["colour"]],
            "size": (choice["size"], choice["size"]) if choice["size"] else None}


def _loader(source, options, download=True):
    """A function ``load(progress)`` for the TaskWorker, for one choice of the form."""
    from core import datasets
    if source == "folder":
        return lambda progress: datasets.load_folder(options["folder"], size=options["size"],
                                                     grayscale=options["grayscale"])
    if source == "synthetic":
        return lambda progress: datasets.synthetic_digits(options["count"], seed=0)
    if source == "quickdraw":
        return lambda progress: datasets.load("quickdraw", categories=options["categories"],
                                              download=download, progress=progress)
    return lambda progress: datasets.load(source, download=download, progress=progress)


class DataPanel(QWidget):
    validationFractionChanged = Signal(float)
    status = Signal(str)

    def __init__(self, state, settings, parent=None):
        super().__init__(parent)
        self.state, self.settings = state, settings
        self.job = Job(self)
        self._quiet, self._loading_source = False, None
        self.full_dataset = None     # what was loaded; state.dataset is it, or its per-class subset
        self._build()
        self._restore()
        state.trainingStarted.connect(self._on_training_changed)
        state.trainingFinished.connect(self._on_training_changed)

    # ---------------------------------------------------------------- layout
    def _build(self):
        left = QVBoxLayout()
        self.source_box = self._source_box()
        self.locked_note = QLabel()
        self.locked_note.setObjectName("dataLocked")
        self.locked_note.setWordWrap(True)
        self.locked_note.hide()
        left.addWidget(self.source_box)
        left.addWidget(self.locked_note)
        left.addWidget(self._info_box())
        left.addStretch(1)
        holder = QWidget()
        holder.setLayout(left)
        holder.setFixedWidth(360)

        self.samples = explain(SampleGrid(), "A random sample of the training images, with their labels")
        self.counts = explain(ClassCounts(), "How many training images each class has: a class with far fewer "
                                             "images is learned less well")
        samples_box = QGroupBox("Samples")
        QVBoxLayout(samples_box).addWidget(self.samples)
        self.counts_box = QGroupBox("Images per class (training set)")
        QVBoxLayout(self.counts_box).addWidget(self.counts)
        self.summary_view = DataSummaryView()
        left_views = QVBoxLayout()
        left_views.addWidget(samples_box, 3)
        left_views.addWidget(self.counts_box, 2)
        layout = QHBoxLayout(self)
        layout.addWidget(holder)
        layout.addLayout(left_views, 1)
        layout.addWidget(self.summary_view, 1)

    def _source_box(self):
        box = QGroupBox("Dataset")
        form = QFormLayout(box)
        self.source = explain(QComboBox(), "Which images to learn from: a standard dataset (found on this "
                                           "computer or downloaded), your own folder of images, or digits "
                                           "drawn here offline")
        for key, label in SOURCES.items():
            self.source.addItem(label, key)
        form.addRow("Source", self.source)
        self.options = QStackedWidget()
        self.categories = explain(QLineEdit(), "Quick, Draw! category names, separated by commas")
        self.categories.setPlaceholderText("cat, dog, apple, bicycle")
        self.count = explain(QSpinBox(), "How many synthetic training digits to draw (and a sixth as many "
                                         "more for testing)")
        self.count.setRange(100, 200_000)
        self.count.setSingleStep(1000)
        self.count.setSuffix(" images")
        self._option_pages = {"quickdraw": self.categories, "folder": self._folder_page(), "synthetic": self.count}
        for widget in self._option_pages.values():
            self.options.addWidget(widget)
        form.addRow("", self.options)
        self._form = form
        self.source.currentIndexChanged.connect(self._on_source_changed)

        self.validation = explain(QDoubleSpinBox(), "Held out from training to measure validation loss and "
                                                    "accuracy each epoch")
        self.validation.setRange(0, 50)
        self.validation.setDecimals(0)
        self.validation.setSuffix(" % of training images")
        self.validation.valueChanged.connect(lambda v: self.validationFractionChanged.emit(v / 100))
        form.addRow("Validation", self.validation)
        self.per_class = explain(QComboBox(), "Train on a few images of each class for quick experiments "
                                              "(100 per class trains LeNet-5 on MNIST in seconds): a balanced, "
                                              "seeded subset, the same each time. The test set stays whole.")
        for n, label in PER_CLASS.items():
            self.per_class.addItem(label, n)
        self.per_class.currentIndexChanged.connect(self._on_per_class_changed)
        form.addRow("Training images", self.per_class)

        buttons = QHBoxLayout()
        self.load_button = explain(QPushButton("Load"), "Load the chosen dataset (in the background: the "
                                                        "window stays usable)")
        self.load_button.setObjectName("primary")
        self.load_button.setDefault(True)
        self.load_button.clicked.connect(lambda _checked=False: self.load())
        self.cancel_button = explain(QPushButton("Cancel"), "Stop loading or downloading; nothing half-written "
                                                            "is kept")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.cancel_button)
        form.addRow(buttons)
        self.progress = explain(QProgressBar(), "How far loading or downloading has gone")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        form.addRow(self.progress)
        return box

    def _folder_page(self):
        """The folder, and how its images are read: in colour or grey, and at what size."""
        self.folder = explain(QLineEdit(), "A folder holding one subfolder of images per class; the subfolders' "
                                           "names are the class names")
        self.folder.setPlaceholderText("a folder with one subfolder of images per class")
        browse = explain(QPushButton("Browse…"), "Choose the folder of class subfolders")
        browse.clicked.connect(self._browse)
        self.colour = explain(QComboBox(), "Read the images in colour (3 channels) or grey (1 channel); by "
                                           "default as most of the folder's images are. The network's input "
                                           "follows.")
        for key, label in COLOURS.items():
            self.colour.addItem(label, key)
        self.size = explain(QComboBox(), "Every image is resized to this size, the network's input size. By "
                                         "default the folder's most common size, at most 64 pixels a side "
                                         "(larger images train slowly)")
        for side in SIZES:
            self.size.addItem(shape_text((side, side)) if side else "Follow the images", side)
        page = QWidget()
        rows = QFormLayout(page)
        rows.setContentsMargins(0, 0, 0, 0)
        line = QHBoxLayout()
        line.addWidget(self.folder, 1)
        line.addWidget(browse)
        rows.addRow(line)
        rows.addRow("Colour", self.colour)
        rows.addRow("Size", self.size)
        return page

    def _info_box(self):
        box = QGroupBox("Loaded")
        column = QVBoxLayout(box)
        self.summary = QLabel("Nothing loaded yet.", textFormat=Qt.RichText)
        self.summary.setWordWrap(True)
        self.subset_note = QLabel(textFormat=Qt.PlainText)
        self.subset_note.setObjectName("dataSubset")
        self.subset_note.setWordWrap(True)
        self.subset_note.hide()
        self.where = QLabel("", textFormat=Qt.PlainText)
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.where.setObjectName("dataSource")
        column.addWidget(self.summary)
        column.addWidget(self.subset_note)
        column.addWidget(self.where)
        column.addWidget(self._ways_in())
        return box

    def _ways_in(self):
        """What to do when the chosen dataset is not on this computer: download it, or work offline."""
        self.offer = QWidget()
        column = QVBoxLayout(self.offer)
        column.setContentsMargins(0, 4, 0, 0)
        self.download_button = explain(QPushButton("Download"), "Download the dataset from its public mirror "
                                                                "(checked, then kept for next time)")
        self.download_button.clicked.connect(lambda _checked=False: self.load(download=True))
        synthetic = explain(QPushButton("Use synthetic digits (offline)"), "Draw digits here, with no network "
                                                                           "and no files, and load them")
        synthetic.clicked.connect(lambda _checked=False: self._choose_and_load("synthetic"))
        folder = explain(QPushButton("Open a folder of images…"), "Choose a folder holding one subfolder of "
                                                                  "images per class, and load it")
        folder.clicked.connect(lambda _checked=False: self._choose_and_load("folder"))
        self.offer_buttons = {"download": self.download_button, "synthetic": synthetic, "folder": folder}
        for button in self.offer_buttons.values():
            column.addWidget(button)
        self.offer.hide()
        return self.offer

    # ---------------------------------------------------------------- settings
    def choice(self):
        """The form as a JSON-able dict: what is remembered, and what ``load`` loads."""
        return SETTINGS.values(self)

    def _restore(self):
        SETTINGS.restore(self, self.settings)
        self._on_source_changed()   # the source's options page, even when the source did not change

    def save_settings(self):
        SETTINGS.save(self, self.settings)

    def _on_source_changed(self, *_):
        page = self._option_pages.get(self.source.currentData())
        self._form.setRowVisible(self.options, page is not None)
        if page is not None:
            self.options.setCurrentWidget(page)
        if not self.loading:   # the last attempt's "Failed" or offer was about another source
            self._finish_progress(0, "")
            self._describe_loaded()
            self.status.emit(f"Press Load to load {SOURCES[self.source.currentData()]}.")

    def _choose_and_load(self, source):
        """One click from "not here" to a dataset: synthetic digits now, or a folder once chosen."""
        self.source.setCurrentIndex(self.source.findData(source))
        if source == "folder" and not self._browse():
            return
        self.load()

    def _browse(self):
        start = self.folder.text() or str(Path.home())
        path = QFileDialog.getExistingDirectory(self, "Folder of class subfolders", start)
        if path:
            self.folder.setText(path)
        return path

    # ---------------------------------------------------------------- loading
    @property
    def loading(self):
        return self.job.running

    def load(self, download=True):
        """Load the chosen dataset in the background; ``download=False`` only looks on this computer.

        The window's start-up load passes False: when the data is not here, the
        panel and the status bar say so and offer the ways to get some, with no
        dialog (the user has not asked for anything yet).
        """
        if self.loading or self.state.training:
            return
        choice = self.choice()
        if not download and not _on_this_computer(choice):
            self._offer_ways_in(choice)
            return
        options = load_options(choice)
        if choice["source"] == "folder" and not Path(options["folder"]).is_dir():
            show_error(self.window(), "No such folder", f"{options['folder'] or 'No folder'} is not a folder.",
                       advice="Choose a folder that holds one subfolder of images per class.")
            return
        if choice["source"] == "quickdraw" and not options["categories"]:
            show_error(self.window(), "No categories", "Type one or more Quick, Draw! categories, "
                       "separated by commas (for example: cat, dog, apple).")
            return
        self._quiet, self._loading_source = not download, choice["source"]   # the form may change meanwhile
        worker = TaskWorker(_loader(choice["source"], options, download))
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_loaded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        self.job.start(worker)
        self.progress.setRange(0, 0)   # busy until the first byte count arrives
        self.progress.setFormat("")
        self.load_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.offer.hide()
        self.status.emit(f"Loading {SOURCES[choice['source']]}…")

    def cancel(self):
        if self.job.running:
            self.job.worker.stop()
            self.cancel_button.setEnabled(False)
            self.progress.setFormat("Cancelling…")

    def _on_progress(self, done, total):
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * done / total))
            self.progress.setFormat(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB")
        else:
            self.progress.setFormat(f"{done / 1e6:.1f} MB")

    def _on_loaded(self, ds):
        if self.state.training:   # a run started while this loaded: it keeps its data, and so does the panel
            self._on_cancelled()
            return
        self._finish_progress(1, "Loaded")
        self.save_settings()
        self.use_dataset(ds)
        self.status.emit(f"Loaded {ds.name}: {len(self.state.dataset.x_train):,} training images")

    def use_dataset(self, ds):
        """Make the loaded ``ds`` the app's data: whole, or the per-class subset chosen in the form."""
        self.full_dataset = ds
        self._publish()

    def _publish(self):
        n = self.per_class.currentData()
        ds = per_class(self.full_dataset, n, seed=SUBSET_SEED) if n else self.full_dataset
        self.show_dataset(ds)
        self.state.set_dataset(ds)

    def _on_per_class_changed(self):
        """Another number of images per class: the loaded data is cut again at once (no reload)."""
        if self.full_dataset is None or self.state.training or self.loading:
            return
        self.save_settings()
        self._publish()
        ds = self.state.dataset
        self.status.emit(f"{ds.name}: {ds.subset or f'all {len(ds.x_train):,} training images'}.")

    def _offer_ways_in(self, choice):
        """The one state for "not here": the panel and the status bar say it, and what to do."""
        self._finish_progress(0, "")
        folder = choice["source"] == "folder"
        missing = f"The folder {choice['folder']}" if folder else SOURCES[choice["source"]]
        ways = ("open another folder or use the synthetic digits" if folder
                else "download it, use the synthetic digits or open a folder of images")
        self.summary.setText(esc(f"{missing} is not on this computer. You can {ways}."))
        self.where.setText("Synthetic digits are drawn here, offline, in a few seconds.")
        size = None if folder else _catalog_entry(choice["source"])["bytes"]
        self.download_button.setText(f"Download ({size / 1e6:.1f} MB)" if size else "Download")
        self.download_button.setVisible(not folder)
        self.offer.show()
        self.status.emit(f"{missing} is not on this computer: {ways} (Data tab).")

    def _describe_loaded(self):
        """The Loaded box back to what is loaded (after a failure or an offer about another choice)."""
        self.offer.hide()
        if self.state.dataset is None:
            self.summary.setText("Nothing loaded yet.")
            self.where.setText("")
        else:
            self.show_dataset(self.state.dataset)

    def _on_failed(self, message, details):
        self._finish_progress(0, "Failed")
        self.status.emit(f"Could not load the dataset: {message}")
        if self._quiet:   # at start-up: said in the panel, no dialog before the user asked for anything
            self.summary.setText(esc(f"Could not load {SOURCES[self._loading_source]}: {message}"))
            return
        show_error(self.window(), "Could not load the dataset", message, details,
                   advice="Check the network or the folder, or choose Synthetic digits to work offline.")

    def _on_cancelled(self):
        self._finish_progress(0, "Cancelled")
        self.status.emit(f"Loading cancelled. {self.locked_note.text()}".strip())

    def _on_training_changed(self):
        """A run trains on the loaded data: until it ends, no other can be chosen or loaded, so this
        tab and the status bar keep naming the data the run uses (a load under way is cancelled)."""
        training = self.state.training
        if training and self.loading:
            self.cancel()
        why = f"Training on {self.state.dataset.name}: stop the run to change the data." if training else ""
        self.source_box.setEnabled(not training)
        self.source_box.setToolTip(why)
        self.locked_note.setText(why)
        self.locked_note.setVisible(training)

    def _finish_progress(self, value, text):
        self.progress.setRange(0, 1)
        self.progress.setValue(value)
        self.progress.setFormat(text)
        self.load_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    # ---------------------------------------------------------------- showing
    def show_dataset(self, ds):
        counts = np.bincount(np.asarray(ds.y_train, np.int64), minlength=len(ds.class_names))
        c, h, w = ds.x_train.shape[1:]
        kind = "grey" if c == 1 else "colour"
        tests = len(ds.x_test) if getattr(ds, "x_test", None) is not None else 0
        lines = [f"{len(ds.x_train):,} training · {tests:,} test images",
                 f"{shape_text((h, w))} {kind} · {len(ds.class_names)} classes"]
        self.summary.setText("<br>".join([f"<b>{esc(ds.name)}</b>", *map(esc, lines)]))
        self.subset_note.setText(f"A subset: {ds.subset}. Choose All images under Training images for the "
                                 "full set." if ds.subset else "")
        self.subset_note.setVisible(bool(ds.subset))
        self.counts_box.setTitle("Images per class (training subset)" if ds.subset else
                                 "Images per class (training set)")
        self.where.setText(f"Found at: {ds.source}")
        rng = np.random.default_rng(0)
        pick = rng.choice(len(ds.x_train), size=min(SAMPLE_COUNT, len(ds.x_train)), replace=False)
        self.samples.set_samples(ds.x_train[pick], [ds.class_names[int(i)] for i in ds.y_train[pick]])
        self.counts.set_counts(list(ds.class_names), counts)
        self.summary_view.show_dataset(ds)


def _on_this_computer(choice):
    """Whether the chosen dataset loads without a download: a dataset the catalogue found here, a
    folder that exists, or digits made here."""
    if choice["source"] == "folder":
        return Path(choice["folder"]).is_dir()
    entry = _catalog_entry(choice["source"])
    return entry is None or entry["found"] is not None


def _catalog_entry(source):
    """What ``numpynet datasets`` knows of ``source``: where it is found, its download size (or None)."""
    from core import datasets
    return next((e for e in datasets.catalog() if e["name"] == source), None)
