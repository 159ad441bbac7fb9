"""Lexicographic row sort of two int32 key words with TensorFlow, as one int64 key."""

import tensorflow as tf


def lexsort_rows(high, low):
    """Returns the int32 permutation that sorts each row of `(high, low)` pairs.

    Both words are non-negative int32, so `high * 2**31 + low` is an order-preserving int64 key
    and one (unstable) sort suffices.

    Args:
        high: int32 tensor (batch, n), the major key.
        low: int32 tensor (batch, n), the minor key.

    Returns:
        An int32 tensor (batch, n): row `b` of `high` and `low` taken at it is sorted.
    """
    keys = tf.cast(high, tf.int64) * 2**31 + tf.cast(low, tf.int64)
    return tf.argsort(keys, axis=1)
