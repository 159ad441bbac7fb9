"""The truncated normal on [-1, 1] that DreamerV2 uses for continuous actions."""

import math

import keras
from keras import ops

_SQRT2 = math.sqrt(2.0)


def _cdf(x):
    return 0.5 * (1.0 + ops.erf(x / _SQRT2))


def _pdf(x):
    return ops.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)


def _bounds(mean, std):
    alpha, beta = (-1.0 - mean) / std, (1.0 - mean) / std
    z = ops.maximum(_cdf(beta) - _cdf(alpha), 1e-6)
    return alpha, beta, z


def sample(mean, std, seed=None, uniform=None):
    """A reparameterized sample (inverse-CDF), differentiable in `mean` and `std`.

    `uniform` holds the uniform numbers in (0, 1) to transform, of the shape of `mean`; when
    None they are drawn with `seed` (a `keras.random.SeedGenerator`).
    """
    mean, std = ops.convert_to_tensor(mean), ops.convert_to_tensor(std)
    alpha, _, z = _bounds(mean, std)
    u = uniform
    if u is None:
        u = keras.random.uniform(ops.shape(mean), 1e-6, 1.0 - 1e-6, dtype=mean.dtype, seed=seed)
    p = ops.clip(_cdf(alpha) + u * z, 1e-6, 1.0 - 1e-6)
    x = mean + std * _SQRT2 * ops.erfinv(2.0 * p - 1.0)
    return ops.clip(x, -1.0 + 1e-6, 1.0 - 1e-6)


def log_prob(x, mean, std):
    """Log density summed over the last axis."""
    x, mean, std = (ops.convert_to_tensor(v) for v in (x, mean, std))
    _, _, z = _bounds(mean, std)
    logp = -0.5 * ((x - mean) / std) ** 2 - ops.log(std * math.sqrt(2.0 * math.pi)) - ops.log(z)
    return ops.sum(logp, axis=-1)


def entropy(mean, std):
    """Differential entropy summed over the last axis."""
    mean, std = ops.convert_to_tensor(mean), ops.convert_to_tensor(std)
    alpha, beta, z = _bounds(mean, std)
    ent = ops.log(math.sqrt(2.0 * math.pi * math.e) * std * z) + (
        alpha * _pdf(alpha) - beta * _pdf(beta)
    ) / (2.0 * z)
    return ops.sum(ent, axis=-1)
