"""Knobs turned while a run trains or is paused: the learning rate, momentum, weight decay, augmentation.

The GUI thread never touches the training model. It hands a change to the
worker (``LiveKnobs.request``, a thread-safe queue), and the worker applies
everything waiting at the next batch boundary (``apply``): the optimizer's
hyper-parameters through ``Optimizer.set_hyper`` (so a schedule goes on from
the new base rate), the augmentation by swapping the transform that ``fit``
calls. Each applied change is an event at the first step it acts on: the
worker writes it into the run's record (``Recorder.event``, run.json) and the
panel draws it as a marker on the batch plots.
"""
import queue

EVENT = "tune"     # the kind of event a live change is recorded as


class SwitchableAugment:
    """``fit``'s augment callable, whose transform a live change may swap (None: batches pass unchanged)."""

    def __init__(self, transform=None):
        self.transform = transform

    def __call__(self, x, rng):
        return x if self.transform is None else self.transform(x, rng)


class LiveKnobs:
    def __init__(self, augment=None):
        self.augment = SwitchableAugment(augment)
        self._waiting = queue.SimpleQueue()

    def request(self, changes, augment=None):
        """From any thread: apply ``changes`` ({"lr": 0.01, "augment": {"rotate": True}, ...}) from the next
        batch on. A change of the "augment" switches comes with its transform (``augment``)."""
        self._waiting.put((dict(changes), augment))

    def apply(self, optimizer, step):
        """On the training thread, between two batches: apply what waits. Returns the event
        ({"kind": EVENT, "step": the first step it acts on, **changes}), or None when nothing waited."""
        changes = {}
        augment = self.augment.transform
        while True:
            try:
                more, transform = self._waiting.get_nowait()
            except queue.Empty:
                break
            changes.update(more)
            if "augment" in more:
                augment = transform
        if not changes:
            return None
        hyper = {k: v for k, v in changes.items() if k != "augment"}
        if hyper:
            optimizer.set_hyper(**hyper)
        self.augment.transform = augment
        return {"kind": EVENT, "step": step, **changes}
