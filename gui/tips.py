"""One call that makes a control explain itself: a hover tooltip, and the same words in the status bar."""


def explain(widget, text):
    """Give ``widget`` ``text`` as its tooltip and status tip; returns the widget (to build and explain in one line)."""
    widget.setToolTip(text)
    widget.setStatusTip(text)
    return widget
