"""The layer-normalized GRU cell of DreamerV2's deterministic state."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class LayerNormGRUCell(keras.layers.Layer):
    """A GRU cell whose gates are computed from one layer-normalized projection.

    DreamerV2 (Hafner et al., 2021, "Mastering Atari with Discrete World Models") keeps the
    deterministic recurrent state with this cell: the concatenated input and previous state are
    projected to three parts, layer-normalized together, and split into reset, candidate and
    update gates. The update gate is biased towards keeping the state (`sigmoid(u - 1)`).

    Args:
        units: size of the state.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: tensor of shape (batch, input_dim).
        state: tensor of shape (batch, units).

    Returns:
        The new state, shape (batch, units).

    Example:

    ```python
    cell = LayerNormGRUCell(8)
    new_state = cell(np.ones((2, 3), "float32"), np.zeros((2, 8), "float32"))
    ```
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"`units` must be a positive integer. Received: units={units!r}")
        self.units = units
        self.projection = keras.layers.Dense(3 * units, use_bias=False, dtype=self.dtype_policy)
        self.norm = keras.layers.LayerNormalization(epsilon=1e-3, dtype=self.dtype_policy)

    def build(self, inputs_shape, state_shape=None):
        self.projection.build((None, inputs_shape[-1] + self.units))
        self.norm.build((None, 3 * self.units))

    def call(self, inputs, state):
        parts = self.norm(self.projection(ops.concatenate([inputs, state], axis=-1)))
        reset, candidate, update = ops.split(parts, 3, axis=-1)
        reset = ops.sigmoid(reset)
        candidate = ops.tanh(reset * candidate)
        update = ops.sigmoid(update - 1.0)
        return update * candidate + (1.0 - update) * state

    def get_config(self):
        return dict(super().get_config(), units=self.units)
