"""Point maps of a layer (core.embedding): PCA with known answers, conv pooling, the optional extras."""
import sys
import types

import numpy as np
import pytest

from core import MissingPackageError, Sequential, ShapeError
from core.embedding import layer_features, layer_points, pca
from core.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU


def test_pca_of_points_on_a_line_is_that_line():
    rng = np.random.default_rng(0)
    direction = np.array([3.0, -1.0, 2.0, 0.5, 0.0])
    direction /= np.linalg.norm(direction)
    t = rng.normal(0, 4, 500)
    data = np.array([1.0, 2.0, 3.0, 4.0, 5.0]) + t[:, None] * direction
    p = pca(data)
    assert p.explained_variance_ratio[0] == pytest.approx(1.0, abs=1e-9)
    assert p.explained_variance_ratio[1] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(p.axes[0], direction, atol=1e-9)     # largest entry (3) positive
    np.testing.assert_allclose(p.points[:, 0], t - t.mean(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(p.points[:, 1], 0, atol=1e-4)
    np.testing.assert_allclose(p.mean, data.mean(axis=0))


def test_pca_matches_the_full_svd_on_many_features():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((2000, 300)) * 0.9 ** np.arange(300)     # leading variances 10% apart
    p = pca(data)
    centred = data - data.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(np.abs(p.axes @ vt[:2].T), np.eye(2), atol=1e-6)
    np.testing.assert_allclose(p.explained_variance_ratio, s[:2] ** 2 / (s ** 2).sum(), rtol=1e-6)


def test_pca_is_deterministic_and_its_sign_does_not_follow_the_order_of_the_points():
    rng = np.random.default_rng(2)
    data = rng.standard_normal((300, 6)) * [5, 3, 1, 1, 1, 1]
    first, again = pca(data), pca(data[::-1])
    np.testing.assert_allclose(first.axes, again.axes, atol=1e-9)
    np.testing.assert_allclose(pca(-data).axes, first.axes, atol=1e-9)    # the data mirrored: same axes
    assert (np.abs(first.axes).argmax(axis=1) == [0, 1]).all()


def test_pca_of_one_feature_or_identical_points_is_still_two_dimensional():
    line = pca(np.arange(10.0)[:, None])
    assert line.points.shape == (10, 2) and line.explained_variance_ratio.tolist() == [1.0, 0.0]
    same = pca(np.ones((5, 3)))
    assert same.points.shape == (5, 2) and not same.points.any() and not same.explained_variance_ratio.any()


def test_pca_refuses_what_it_cannot_project():
    with pytest.raises(ValueError, match="at least 2 points"):
        pca(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="NaN"):
        pca(np.array([[0.0, np.nan], [1.0, 2.0]]))


@pytest.fixture
def cnn():
    return Sequential([Conv2D(3, 3), ReLU(), MaxPool2D(2), Flatten(), Dense(5), ReLU(), Dense(4)],
                      input_shape=(1, 8, 8), seed=0)


@pytest.fixture
def x():
    return np.random.default_rng(0).random((30, 1, 8, 8)).astype(np.float32)


def test_conv_channels_are_average_pooled_and_dense_units_kept(cnn, x):
    conv = layer_features(cnn, x, 1, batch_size=7)
    maps = cnn.layers[1].forward(cnn.layers[0].forward(x))
    np.testing.assert_allclose(conv, maps.mean(axis=(2, 3)), rtol=1e-6)
    assert conv.shape == (30, 3) and conv.dtype == np.float32
    np.testing.assert_allclose(layer_features(cnn, x, -1), cnn.forward(x), rtol=1e-6)
    assert layer_features(cnn, x[:, 0], 3).shape == (30, 3 * 3 * 3)          # (N, H, W) grey images too


def test_layer_points_is_the_pca_of_the_layer_features(cnn, x):
    calls = []
    m = layer_points(cnn, x, 5, progress=lambda done, total: calls.append((done, total)))
    expected = pca(layer_features(cnn, x, 5))
    np.testing.assert_array_equal(m.points, expected.points)
    assert m.points.shape == (30, 2) and m.method == "pca" and m.layer == 5
    np.testing.assert_array_equal(m.explained_variance_ratio, expected.explained_variance_ratio)
    assert calls == [(30, 30)]
    assert layer_points(cnn, x, -2).layer == 5


def test_progress_returning_false_stops_the_map(cnn, x):
    assert layer_points(cnn, x, 0, progress=lambda done, total: False) is None
    assert layer_features(cnn, x, 0, batch_size=10, progress=lambda done, total: done < 20) is None


def test_bad_requests_are_refused_naming_them(cnn, x):
    with pytest.raises(ValueError, match="from 0 to 6, got 7"):
        layer_points(cnn, x, 7)
    with pytest.raises(ValueError, match="pca, tsne, umap, got 'mds'"):
        layer_points(cnn, x, 0, method="mds")
    with pytest.raises(ShapeError, match="layer_features: expected input"):
        layer_points(cnn, np.zeros((4, 1, 9, 9)), 0)
    with pytest.raises(ValueError, match="at least 2 images"):
        layer_points(cnn, x[:1], 0)


@pytest.mark.parametrize("method, module, extra", [("tsne", "sklearn", "tsne"), ("umap", "umap", "umap")])
def test_a_missing_extra_is_named_before_any_work(cnn, x, monkeypatch, method, module, extra):
    monkeypatch.setitem(sys.modules, module, None)           # import fails as if not installed
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    ran = []
    with pytest.raises(MissingPackageError, match=rf'{method} point map needs.*numpynet-studio\[{extra}\]'):
        layer_points(cnn, x, 0, method=method, progress=lambda *a: ran.append(a))
    assert ran == []


def test_tsne_and_umap_get_the_features_and_the_seed(cnn, x, monkeypatch):
    seen = {}

    class Fake:
        def __init__(self, n_components, random_state, **kwargs):
            seen.update(n_components=n_components, random_state=random_state)

        def fit_transform(self, features):
            seen["features"] = features
            return features[:, :2].astype(np.float64)

    monkeypatch.setitem(sys.modules, "sklearn", types.ModuleType("sklearn"))
    monkeypatch.setitem(sys.modules, "sklearn.manifold", types.SimpleNamespace(TSNE=Fake))
    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=Fake))
    for method in ("tsne", "umap"):
        m = layer_points(cnn, x, 4, method=method, seed=7)
        np.testing.assert_array_equal(seen["features"], layer_features(cnn, x, 4))
        assert seen["n_components"] == 2 and seen["random_state"] == 7
        assert m.points.dtype == np.float32 and m.points.shape == (30, 2) and m.explained_variance_ratio is None


def test_the_map_knows_each_images_prediction_from_the_same_pass(cnn, x):
    calls = []
    m = layer_points(cnn, x, 1, progress=lambda done, total: calls.append(done))
    np.testing.assert_array_equal(m.predictions, cnn.predict(x).argmax(axis=1))
    assert m.predictions.dtype == np.int64 and calls == [30]          # one pass, not one more for predictions


def test_no_images_are_no_features_and_no_map(cnn, x):
    assert layer_features(cnn, x[:0], 1).shape == (0, 3)      # not None, which means "stopped"
    assert layer_features(cnn, x[:0], 5).shape == (0, 5)
    with pytest.raises(ValueError, match="at least 2 images, got 0"):
        layer_points(cnn, x[:0], 0)


def test_missing_package_says_what_to_install_without_importing(monkeypatch):
    from core.embedding import missing_package
    assert missing_package("pca") is None
    monkeypatch.setitem(sys.modules, "umap", None)
    assert 'pip install "numpynet-studio[umap]"' in missing_package("umap")
    monkeypatch.setitem(sys.modules, "umap", types.ModuleType("umap"))
    monkeypatch.setattr(sys.modules["umap"], "__spec__", types.SimpleNamespace(name="umap"), raising=False)
    assert missing_package("umap") is None
    monkeypatch.setitem(sys.modules, "umap", types.ModuleType("umap"))          # imported, with no spec
    assert missing_package("umap") is None


def test_a_layer_whose_outputs_are_not_finite_is_named(cnn, x):
    cnn.layers[4].params["W"][0, 0] = np.nan                 # Dense #5, as a diverged run leaves it
    with pytest.raises(ValueError, match="Dense #5's outputs hold NaN"):
        layer_points(cnn, x, 4)
