"""The architecture editor's parts: a Qt-free ``Document`` of layer rows, and the widgets that edit it.

The panel built from them is ``gui.panels.architecture.ArchitecturePanel``.
"""
