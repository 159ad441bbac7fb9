"""TD(lambda) returns computed backwards in time with `keras.ops.scan`."""

from keras import ops

from keras_suite.ops.static_scan import static_scan


def lambda_returns(rewards, values, discounts, bootstrap, lambda_=0.95, axis=1):
    """TD(lambda) returns, the critic and actor targets of Dreamer.

    With time index t along `axis`, computes backwards
    `R_t = rewards_t + discounts_t * ((1 - lambda_) * V_{t+1} + lambda_ * R_{t+1})`, where
    `V_{t+1}` is `values_{t+1}` (and `bootstrap` after the last step) and `R_T = bootstrap`.
    `lambda_=0` gives one-step TD targets, `lambda_=1` discounted Monte-Carlo returns bootstrapped
    at the end. Runs as a reverse `static_scan` (XLA-compilable).

    Args:
        rewards: rewards received after each step, shape (batch, time) for `axis=1`.
        values: value estimates of each step's state, same shape.
        discounts: discount applied after each step (0 at terminal states), same shape.
        bootstrap: value of the state after the last step, shape (batch,).
        lambda_: the lambda in [0, 1].
        axis: the time axis, 0 or 1.

    Returns:
        The returns, same shape as `rewards`.

    Example:

    ```python
    returns = lambda_returns(
        np.ones((2, 3), "float32"), np.zeros((2, 3), "float32"),
        np.full((2, 3), 0.9, "float32"), np.zeros((2,), "float32"), lambda_=0.95)
    ```
    """
    if not 0.0 <= lambda_ <= 1.0:
        raise ValueError(f"`lambda_` must be in [0, 1]. Received: lambda_={lambda_!r}")
    if axis not in (0, 1):
        raise ValueError(f"`axis` must be 0 or 1. Received: axis={axis!r}")
    rewards, values, discounts = (ops.convert_to_tensor(x) for x in (rewards, values, discounts))
    if not (rewards.shape == values.shape == discounts.shape):
        raise ValueError(
            "`rewards`, `values` and `discounts` must have the same shape. Received: "
            f"{tuple(rewards.shape)}, {tuple(values.shape)}, {tuple(discounts.shape)}"
        )
    bootstrap = ops.cast(ops.convert_to_tensor(bootstrap), rewards.dtype)
    if axis == 1:
        rewards, values, discounts = (ops.moveaxis(x, 1, 0) for x in (rewards, values, discounts))
    next_values = ops.concatenate([values[1:], bootstrap[None]], axis=0)
    inputs = rewards + discounts * next_values * (1.0 - lambda_)

    def step(carry, x):
        return x[0] + x[1] * lambda_ * carry

    returns = static_scan(step, bootstrap, (inputs, discounts), reverse=True)
    return ops.moveaxis(returns, 0, 1) if axis == 1 else returns
