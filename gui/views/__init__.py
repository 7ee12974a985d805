"""The app's views: one panel per file, each listening to ``gui.state.AppState``."""
