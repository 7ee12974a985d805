"""Numbers written for people, by the CLI and the window alike (the window adds escaping for rich text)."""


def percent(p, decimals=1):
    """A fraction as a percentage with ``decimals`` decimals (a probability, an accuracy, a share).

    Never a misleading "100.0%" or "0.0%" for what is not certain: a value that
    would round to either end says it is beyond the last shown step (">99.9%").
    """
    p = float(p)
    text = f"{100 * p:.{decimals}f}"
    step = 10.0 ** -decimals                   # the smallest percentage shown
    if float(text) == 0 and p > 0:
        return f"<{step:.{decimals}f}%"
    if float(text) == 100 and p < 1:
        return f">{100 - step:.{decimals}f}%"
    return "0%" if p == 0 else "100%" if p == 1 else f"{text}%"


def counted(n, noun):
    """``n`` of ``noun`` with thousands separated, singular for one: "1 test image", "2,000 test images"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def probability(p, decimals=1):
    """A model's probability as a percentage, never "100%" or "0%".

    A float32 softmax saturates at exactly 1.0 (and 0.0) once one score leads
    the others by about 19: that is rounding, not certainty, so such a value is
    written as beyond the last shown step (">99.9%"). Accuracies and shares,
    which can truly be whole, use ``percent``.
    """
    return percent(min(max(float(p), _OPEN), 1 - _OPEN), decimals)


_OPEN = 1e-12   # how far inside (0, 1) a probability is kept: far below any shown step
