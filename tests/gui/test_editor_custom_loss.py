"""An architecture edit keeps the model's loss, even one of the user's own that no registry names."""
import numpy as np
import pytest

from core import zoo
from core.losses import Loss
from core.optimizers import Adam
from gui.panels.architecture import ArchitecturePanel
from gui.state import AppState


class Halved(Loss):
    """Half a squared error, a loss no registry knows."""

    def __init__(self, scale=0.5):
        self.scale = scale

    def forward(self, out, y):
        return float(self.scale * ((out - y) ** 2).mean())

    def backward(self, out, y):
        return 2 * self.scale * (out - y) / out.size


@pytest.mark.parametrize("loss", [Halved(0.25), "mse"], ids=["custom", "mse"])
def test_an_edit_keeps_the_loss_and_its_settings(qtbot, loss):
    model = zoo.build("mlp", seed=0)
    model.compile(Adam(lr=0.003), loss)
    state = AppState()
    state.set_model(model)
    panel = ArchitecturePanel(state)
    qtbot.addWidget(panel)
    panel.ask = lambda title, text: True
    panel.add_layer("Dropout")
    edited = state.model
    assert edited is not model and type(edited.loss) is type(model.loss)
    assert vars(edited.loss) == vars(model.loss)
    assert edited.optimizer.get_config() == model.optimizer.get_config()
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    assert np.isfinite(edited.evaluate(x, np.eye(10, dtype=np.float32)[:4])["loss"])
