"""A scan over a leading time axis that XLA can compile, gradients included."""

import keras
from keras import ops


def static_scan(fn, init, xs, reverse=False):
    """Loops `carry = fn(carry, x_t)` over the leading axis of `xs`; returns the stacked carries.

    Unlike `keras.ops.scan`, the step returns only the new carry, which is also the per-step
    output (a nested structure, e.g. a dict of states). On the TensorFlow backend it runs as
    `tf.scan`, whose `tf.while_loop` has a fixed trip count, so that it compiles under XLA
    (`jit_compile=True`) together with its gradient; `keras.ops.scan`'s loop does not. Other
    backends use `keras.ops.scan`.

    Args:
        fn: `fn(carry, x) -> carry`, with `x` one time step of `xs` (nested structures).
        init: the initial carry.
        xs: a tensor or nested structure of tensors with a common leading axis.
        reverse: loops from the last step to the first (outputs stay in time order).

    Returns:
        The carries after each step, stacked along a new leading axis.

    Example:

    ```python
    cumsum = static_scan(lambda c, x: c + x, np.zeros(2, "float32"), np.ones((3, 2), "float32"))
    ```
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.scan(fn, xs, initializer=init, reverse=reverse)

    def step(carry, x):
        carry = fn(carry, x)
        return carry, carry

    return ops.scan(step, init, xs, reverse=reverse)[1]
