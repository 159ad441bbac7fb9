"""`WeightedAverage`: a learned convex combination of ensemble members' predictions."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class WeightedAverage(keras.layers.Layer):
    """Combines equally shaped inputs with learned weights that are positive and sum to one.

    The weights are `softmax(logits)` over one trainable logit per input, initialised to zero
    (a plain average). Model Search uses it as its "learned weighting" ensemble: members are
    frozen and only these weights are trained.

    Args:
        **kwargs: standard layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a list of at least two tensors of the same shape.

    Returns:
        The weighted sum of the inputs, of the same shape as each input.

    Example:

    ```python
    layer = WeightedAverage()
    layer([np.zeros((2, 3)), np.ones((2, 3))])  # 0.5 everywhere
    ```
    """

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2:
            raise ValueError(
                "`WeightedAverage` takes a list of at least two tensors. "
                f"Received: input_shape={input_shape}"
            )
        shapes = {tuple(shape) for shape in input_shape}
        if len(shapes) != 1:
            raise ValueError(
                "`WeightedAverage` inputs must all have the same shape. "
                f"Received: shapes={list(input_shape)}"
            )
        self.logits = self.add_weight(
            name="logits", shape=(len(input_shape),), initializer="zeros", trainable=True
        )

    def combination_weights(self):
        """The current weights of the inputs: `softmax(logits)`."""
        return ops.softmax(ops.cast(self.logits, "float32"))

    def call(self, inputs):
        weights = ops.cast(self.combination_weights(), inputs[0].dtype)
        return ops.sum(
            ops.stack(inputs, axis=0) * ops.reshape(weights, (-1,) + (1,) * len(inputs[0].shape)),
            axis=0,
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])
