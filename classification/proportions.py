"""The Wilson score interval of a proportion: a few lines of arithmetic, so no
statistics package is a dependency for one formula. No Django import."""

import math

Z_95 = 1.959964


def wilson_interval(
    successes: float, trials: float, *, z: float = Z_95
) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes`` out of ``trials``, or None
    without trials. Non-integer counts (weighted evidence) are accepted."""
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    if trials == 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    half /= denominator
    return max(0.0, centre - half), min(1.0, centre + half)
