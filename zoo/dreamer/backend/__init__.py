"""DreamerV2's updates, one small module per Keras backend behind the functions here.

As keras core does (`keras/src/backend/{jax,tensorflow,torch}/trainer.py`), each backend takes
its gradients its own way: `tf.GradientTape` on TensorFlow, `jax.value_and_grad` over the
variables' values in a `keras.StatelessScope` on JAX, `torch.autograd.grad` on PyTorch. The
functions below pick the module of `keras.config.backend()`; the maths (the losses, the three
optimizers, the stop-gradients) is the models' own and the same on every backend.
"""

import importlib

import keras

BACKENDS = ("jax", "tensorflow", "torch")


def _module():
    backend = keras.config.backend()
    if backend not in BACKENDS:
        raise ValueError(
            f"DreamerV2 trains on the Keras backends {list(BACKENDS)}: set `KERAS_BACKEND` to "
            f"one of them. Received: backend={backend!r}"
        )
    return importlib.import_module(f"keras_suite.zoo.dreamer.backend.{backend}_update")


def train_step(agent, *args):
    """One DreamerV2 update (world model, then actor, then critic, then the target critic):
    `DreamerV2.train_step` on the current backend, with that backend's `train_step` arguments
    (`data`, or `state, data` on JAX); returns what Keras expects there (logs, and the new state
    on JAX)."""
    return _module().train_step(agent, *args)


def world_model_train_step(model, *args):
    """One `WorldModel` update with its optimizer: `WorldModel.train_step` on the current
    backend (arguments and returns as for `train_step`)."""
    return _module().world_model_train_step(model, *args)


def policy_function(agent, training):
    """`fn(observations, is_first, state) -> (action, state)`: `DreamerV2`'s policy step
    compiled the backend's way (`tf.function`, `jax.jit`, or plain PyTorch without autograd)."""
    return _module().policy_function(agent, training)


def value_and_grad(fn, variables):
    """The value of `fn()` (a scalar) and its gradients with respect to `variables`.

    Args:
        fn: a function of no arguments returning a scalar tensor, reading `variables`.
        variables: a list of `keras.Variable`s.

    Returns:
        `(value, gradients)`: the gradients as a list of tensors, zeros for variables that
        `fn` does not depend on.

    Example:

    ```python
    w = keras.Variable(np.ones(3, "float32"))
    loss, (grad,) = value_and_grad(lambda: keras.ops.sum(w**2), [w])  # grad = 2 * w
    ```
    """
    return _module().value_and_grad(fn, list(variables))
