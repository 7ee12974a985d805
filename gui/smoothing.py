"""The smoothing of batch curves, shared by the live run and the runs overlaid beside it."""

EMA_WEIGHT = 0.95          # TensorBoard's default: noisy batches read as a trend


class Ema:
    """TensorBoard's smoothing: an exponential moving average, debiased so it does not start at 0."""

    def __init__(self, weight=EMA_WEIGHT):
        self.weight, self.value, self.n = weight, 0.0, 0

    def __call__(self, x):
        self.n += 1
        self.value = self.weight * self.value + (1 - self.weight) * x
        return self.value / (1 - self.weight ** self.n)

    def many(self, xs):
        """The smoothed values of ``xs`` in turn, continuing from the points already seen."""
        return [self(v) for v in xs]
