"""Undo steps of the editor: each edit is a pair of document snapshots, so undo is exact.

A snapshot holds the whole architecture (a few configs), which is cheaper to
reason about than inverse operations and makes every undo restore exactly the
state before. Weights come back through the panel's WeightBank.
"""
from PySide6.QtGui import QUndoCommand

_MERGEABLE = 6  # any fixed id: commands with a merge key merge with the previous one of the same key


class EditCommand(QUndoCommand):
    """Sets the document to ``after`` (redo) or ``before`` (undo) through ``apply(snapshot, selected_uid)``.

    Consecutive edits of the same field of the same layer (same ``merge_key``)
    merge into one step, so stepping a spin box from 20 to 30 is one undo.
    """

    def __init__(self, apply, before, after, text, selected=(None, None), merge_key=None):
        super().__init__(text)
        self._apply = apply
        self.before, self.after = before, after
        self.selected_before, self.selected_after = selected
        self.merge_key = merge_key

    def redo(self):
        self._apply(self.after, self.selected_after)

    def undo(self):
        self._apply(self.before, self.selected_before)

    def id(self):
        return _MERGEABLE if self.merge_key is not None else -1

    def mergeWith(self, other):
        if other.merge_key != self.merge_key:
            return False
        self.after, self.selected_after = other.after, other.selected_after
        self.setObsolete(self.after == self.before)
        return True
