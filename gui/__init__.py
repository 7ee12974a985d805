"""numpynet studio: the PySide6 desktop app. Imports core; core never imports gui."""
