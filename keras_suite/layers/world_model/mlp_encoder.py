"""DreamerV2's MLP encoder for vector observations."""

import keras


@keras.saving.register_keras_serializable(package="keras_suite")
class MLPEncoder(keras.layers.Layer):
    """A stack of dense layers that embeds vector observations, DreamerV2's MLP encoder.

    DreamerV2 (Hafner et al., 2021) encodes image keys of an observation with `ConvEncoder` and
    vector keys (e.g. proprioceptive state) with this MLP: `num_layers` dense layers of `units`
    with `activation`, the last hidden activation being the embedding. The matching decoder is an
    `MLPHead` whose `output_size` is the vector size (the mean of a unit-variance Gaussian).
    Any leading axes (batch, time) are kept.

    Args:
        units: width of every layer, and the embedding size (400 in the paper).
        num_layers: number of dense layers (4 in the paper).
        activation: activation of every layer.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        vectors: float tensor of shape (..., vector_size).

    Returns:
        Embeddings of shape (..., units).

    Example:

    ```python
    encoder = MLPEncoder(units=32, num_layers=2)
    embed = encoder(np.zeros((2, 5, 4), "float32"))  # (2, 5, 32)
    ```
    """

    def __init__(self, units=400, num_layers=4, activation="elu", **kwargs):
        super().__init__(**kwargs)
        for name, value in (("units", units), ("num_layers", num_layers)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        self.units = units
        self.num_layers = num_layers
        self.activation = activation
        self.dense = [
            keras.layers.Dense(units, activation=activation, dtype=self.dtype_policy)
            for _ in range(num_layers)
        ]

    def build(self, vectors_shape):
        size = vectors_shape[-1]
        for layer in self.dense:
            layer.build((None, size))
            size = self.units

    def compute_output_shape(self, vectors_shape):
        return tuple(vectors_shape[:-1]) + (self.units,)

    def call(self, vectors):
        x = vectors
        for layer in self.dense:
            x = layer(x)
        return x

    def get_config(self):
        return dict(
            super().get_config(),
            units=self.units,
            num_layers=self.num_layers,
            activation=self.activation,
        )
