"""Lexicographic row sort of two int32 key words with JAX (no int64 without `jax_enable_x64`)."""

import jax
import jax.numpy as jnp


def lexsort_rows(high, low):
    """Returns the int32 permutation that sorts each row of `(high, low)` pairs.

    Args:
        high: int32 array (batch, n), the major key.
        low: int32 array (batch, n), the minor key.

    Returns:
        An int32 array (batch, n): row `b` of `high` and `low` taken at it is sorted.
    """
    high = jnp.asarray(high, "int32")
    low = jnp.asarray(low, "int32")
    iota = jax.lax.broadcasted_iota(jnp.int32, high.shape, 1)
    return jax.lax.sort((high, low, iota), dimension=1, num_keys=2)[2]
