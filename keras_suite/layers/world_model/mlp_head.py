"""DreamerV2's MLP heads: reward, discount, actor and critic."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class MLPHead(keras.layers.Layer):
    """A stack of dense layers ending in a linear output: a DreamerV2 prediction head.

    DreamerV2 predicts rewards (the mean of a unit Gaussian, trained by MSE), episode
    continuation (Bernoulli logits), actions (one-hot categorical logits, or the mean and std
    parameters of a truncated normal) and values with such heads, 4 layers of 400 units with ELU
    on Atari. The head returns the raw distribution parameters; the agent interprets them.

    Args:
        output_size: size of the output; `None` returns one scalar per input (the last axis
            dropped).
        units: width of the hidden layers.
        num_layers: number of hidden layers.
        activation: activation of the hidden layers.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        features: tensor of shape (..., feature_size).

    Returns:
        Tensor of shape (..., output_size), or (...) when `output_size` is None.

    Example:

    ```python
    reward_head = MLPHead(None, units=32, num_layers=2)
    rewards = reward_head(np.zeros((2, 5, 16), "float32"))  # (2, 5)
    ```
    """

    def __init__(self, output_size=None, units=400, num_layers=4, activation="elu", **kwargs):
        super().__init__(**kwargs)
        if output_size is not None and (not isinstance(output_size, int) or output_size <= 0):
            raise ValueError(
                "`output_size` must be a positive integer or None. "
                f"Received: output_size={output_size!r}"
            )
        if not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(
                f"`num_layers` must be a non-negative integer. Received: num_layers={num_layers!r}"
            )
        self.output_size = output_size
        self.units = units
        self.num_layers = num_layers
        self.activation = activation
        policy = self.dtype_policy
        self.hidden = [
            keras.layers.Dense(units, activation=activation, dtype=policy)
            for _ in range(num_layers)
        ]
        self.out = keras.layers.Dense(output_size or 1, dtype=policy)

    def build(self, features_shape):
        size = features_shape[-1]
        for layer in self.hidden:
            layer.build((None, size))
            size = self.units
        self.out.build((None, size))

    def compute_output_shape(self, features_shape):
        if self.output_size is None:
            return tuple(features_shape[:-1])
        return tuple(features_shape[:-1]) + (self.output_size,)

    def call(self, features):
        x = features
        for layer in self.hidden:
            x = layer(x)
        x = self.out(x)
        return ops.squeeze(x, -1) if self.output_size is None else x

    def get_config(self):
        return dict(
            super().get_config(),
            output_size=self.output_size,
            units=self.units,
            num_layers=self.num_layers,
            activation=self.activation,
        )
