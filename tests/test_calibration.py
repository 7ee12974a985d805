"""Abstaining and calibration (core.calibration), on constructed probabilities with known answers."""
import math

import numpy as np
import pytest

from core import ModelFileError, load_model, zoo
from core.calibration import (abstain, average_confidence, calibrate_model, confident_mistakes, coverage_curve,
                              fit_model_temperature, fit_temperature, reliability)
from core.surgery import set_temperature


def rows(confidences, k=4):
    """(N, k) probabilities whose top class is 0 with the given confidence, the rest shared."""
    c = np.asarray(confidences, np.float64)[:, None]
    return np.hstack([c, np.repeat((1 - c) / (k - 1), k - 1, axis=1)])


# 6 images: confidences and whether class 0 (the prediction) is right.
CONF = [0.95, 0.95, 0.8, 0.6, 0.4, 0.3]
RIGHT = [1, 0, 1, 1, 0, 1]
PROBS, LABELS = rows(CONF), np.where(np.array(RIGHT) == 1, 0, 2)


def test_threshold_zero_answers_everything_and_gives_the_plain_accuracy():
    a = abstain(PROBS, LABELS, 0.0)
    assert a.coverage == 1.0 and a.answered.all()
    assert a.accuracy == pytest.approx(4 / 6)


def test_a_threshold_answers_only_the_confident_ones():
    a = abstain(PROBS, LABELS, 0.6)
    assert a.answered.tolist() == [True, True, True, True, False, False]
    assert a.coverage == pytest.approx(4 / 6) and a.accuracy == pytest.approx(3 / 4)
    nothing = abstain(PROBS, LABELS, 1.0)
    assert nothing.coverage == 0 and math.isnan(nothing.accuracy)


def test_the_coverage_curve_is_abstain_at_each_distinct_confidence():
    thresholds, coverage, accuracy = coverage_curve(PROBS, LABELS)
    np.testing.assert_allclose(thresholds, [0.95, 0.8, 0.6, 0.4, 0.3])
    np.testing.assert_allclose(coverage, [2 / 6, 3 / 6, 4 / 6, 5 / 6, 1])
    np.testing.assert_allclose(accuracy, [1 / 2, 2 / 3, 3 / 4, 3 / 5, 4 / 6])
    for t, c, a in zip(thresholds, coverage, accuracy):
        answered = abstain(PROBS, LABELS, t)
        assert (answered.coverage, answered.accuracy) == pytest.approx((c, a))


def test_average_confidence_and_confident_mistakes():
    assert average_confidence(PROBS) == pytest.approx(np.mean(CONF))
    assert confident_mistakes(PROBS, LABELS) == 1                 # the wrong one at 0.95
    assert confident_mistakes(PROBS, LABELS, above=0.35) == 2     # and the one at 0.4
    assert confident_mistakes(PROBS, np.eye(4)[LABELS]) == 1      # one-hot labels too


def test_a_calibrated_set_has_zero_expected_calibration_error():
    probs = rows([0.8] * 10 + [0.6] * 5)
    labels = np.array([0] * 8 + [1] * 2 + [0] * 3 + [3] * 2)      # 80% right at 0.8, 60% at 0.6
    r = reliability(probs, labels, bins=10)
    assert r.ece == pytest.approx(0, abs=1e-12)
    assert r.counts.tolist() == [0] * 6 + [5, 0, 10, 0]
    assert r.accuracy[8] == pytest.approx(0.8) and r.confidence[6] == pytest.approx(0.6)
    assert np.isnan(r.accuracy[0]) and r.edges.tolist() == pytest.approx(np.linspace(0, 1, 11).tolist())


def test_the_expected_calibration_error_weights_each_gap_by_its_share():
    probs = rows([0.95] * 50 + [0.65] * 50)
    labels = np.array([1] * 50 + [0] * 50)          # all wrong at 0.95, all right at 0.65
    assert reliability(probs, labels, bins=10).ece == pytest.approx(0.5 * 0.95 + 0.5 * 0.35)
    assert reliability(rows([1.0]), [0], bins=4).counts.tolist() == [0, 0, 0, 1]   # 1 falls in the last bin


def calibrated_logits(n=20000, k=5, seed=0):
    """Logits z and labels drawn from softmax(z): z is calibrated by construction."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, (n, k))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = (p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return z, labels


@pytest.mark.parametrize("t", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_the_temperature_the_logits_were_scaled_by(t):
    z, labels = calibrated_logits()
    assert fit_temperature(z * t, labels) == pytest.approx(t, rel=0.03)


def test_temperature_scaling_lowers_the_calibration_error():
    z, labels = calibrated_logits()
    over = z * 3
    t = fit_temperature(over, labels)
    before = reliability(np.exp(over) / np.exp(over).sum(1, keepdims=True), labels).ece
    after = reliability(np.exp(over / t) / np.exp(over / t).sum(1, keepdims=True), labels).ece
    assert after < before / 3


def test_bad_inputs_are_refused_saying_what():
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\], got 1.5"):
        abstain(PROBS, LABELS, 1.5)
    with pytest.raises(ValueError, match="got '0.5'"):
        abstain(PROBS, LABELS, "0.5")
    with pytest.raises(ValueError, match="6 rows but labels have shape"):
        abstain(PROBS, LABELS[:5], 0.5)
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\], got \[0, 7\]"):
        confident_mistakes(PROBS, [0, 0, 0, 0, 0, 7])
    with pytest.raises(ValueError, match="bins must be"):
        reliability(PROBS, LABELS, bins=0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_temperature(np.array([[np.nan, 1.0]]), [0])
    with pytest.raises(ValueError, match=r"\(N, K\) array"):
        coverage_curve(np.zeros(4), [0, 0, 0, 0])


@pytest.fixture
def model():
    m = zoo.build("mlp", input_shape=(1, 6, 6), classes=4, seed=0)
    m.compile("sgd", "crossentropy")
    return m


def test_a_fitted_temperature_is_saved_in_the_model_and_applied_by_predict(model, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((400, 1, 6, 6)).astype(np.float32)
    scores = model.scores(x)
    labels = np.argmax(scores + rng.gumbel(size=scores.shape) * 3, axis=1)   # noisier than the model thinks
    t = fit_model_temperature(model, x, labels)
    assert t > 1.5 and t == pytest.approx(fit_temperature(scores, labels))
    calibrated = set_temperature(model, t)
    probs = calibrated.predict(x)
    e = np.exp(scores / t - (scores / t).max(1, keepdims=True))
    np.testing.assert_allclose(probs, e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)
    assert (probs.argmax(1) == model.predict(x).argmax(1)).all()
    assert probs.max(1).mean() < model.predict(x).max(1).mean()
    calibrated.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.meta["temperature"] == pytest.approx(t)
    np.testing.assert_allclose(loaded.predict(x), probs, rtol=1e-6)
    assert "temperature" not in model.meta


@pytest.mark.parametrize("bad", ["hot", -1.0, 0, True, [2]])
def test_a_model_file_with_a_bad_temperature_is_refused(model, tmp_path, bad):
    import json
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    doc["temperature"] = bad
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="'temperature' must be a number above 0"):
        load_model(tmp_path / "m")


def test_a_temperature_is_fitted_only_for_a_softmax_classifier():
    from core import Sequential
    from core.layers import Dense, Flatten, Sigmoid
    x, y = np.zeros((4, 1, 4, 4), np.float32), np.zeros(4, int)
    with pytest.raises(ValueError, match="fit_model_temperature: .*ends in a Sigmoid"):
        fit_model_temperature(Sequential([Flatten(), Dense(3), Sigmoid()], input_shape=(1, 4, 4)), x, y)


def test_calibrate_model_fits_the_temperature_and_measures_the_error_before_and_after(model):
    rng = np.random.default_rng(0)
    x = rng.random((400, 1, 6, 6)).astype(np.float32)
    scores = model.scores(x)
    labels = np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)   # softmax(scores) is honest: T = 1
    hot = set_temperature(model, 0.25)                                    # four times too sure
    calls = []
    c = calibrate_model(hot, x, labels, bins=10, batch_size=150, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(150, 400), (300, 400), (400, 400)]
    assert c.temperature == pytest.approx(fit_model_temperature(model, x, labels), rel=1e-6)   # T is absolute
    assert 0.7 < c.temperature < 1.4
    assert c.before.ece == pytest.approx(reliability(hot.predict(x), labels).ece, abs=1e-5)
    assert c.after.ece == pytest.approx(reliability(set_temperature(model, c.temperature).predict(x), labels).ece,
                                        abs=1e-5)
    assert c.after.ece < c.before.ece / 2
    uint8 = calibrate_model(hot, (x * 255).round().astype(np.uint8), labels)
    assert uint8.temperature == pytest.approx(c.temperature, rel=0.05)


def test_calibrate_model_refuses_what_has_no_softmax(model):
    from core.layers import Sigmoid
    from core import Sequential
    sigmoid = Sequential([*zoo.build("mlp", input_shape=(1, 6, 6), classes=4).layers[:-1], Sigmoid()],
                         input_shape=(1, 6, 6))
    with pytest.raises(ValueError, match="calibrate_model: a softmax temperature needs"):
        calibrate_model(sigmoid, np.zeros((2, 1, 6, 6), np.float32), [0, 1])
    with pytest.raises(ValueError, match="calibrate_model: no samples"):
        calibrate_model(model, np.zeros((0, 1, 6, 6), np.float32), [])
