"""DreamerV2's KL balancing between the posterior and the prior of a world model."""

import math

from keras import ops


def categorical_kl(lhs_logits, rhs_logits):
    """KL(lhs || rhs) of categorical distributions given by logits, summed over the last two axes.

    Args:
        lhs_logits: logits of shape (..., num_variables, num_classes).
        rhs_logits: logits of the same shape.

    Returns:
        The KL divergence per leading index, shape (...), in float32.
    """
    lhs = ops.log_softmax(ops.cast(lhs_logits, "float32"), axis=-1)
    rhs = ops.log_softmax(ops.cast(rhs_logits, "float32"), axis=-1)
    return ops.sum(ops.exp(lhs) * (lhs - rhs), axis=(-2, -1))


def gaussian_kl(lhs, rhs):
    """KL(lhs || rhs) of diagonal Gaussians given as `(mean, std)`, summed over the last axis."""
    m1, s1 = (ops.cast(x, "float32") for x in lhs)
    m2, s2 = (ops.cast(x, "float32") for x in rhs)
    kl = ops.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2.0 * s2**2) - 0.5
    return ops.sum(kl, axis=-1)


def kl_balancing(posterior, prior, balance=0.8, free_nats=0.0, distribution="categorical"):
    """KL(posterior || prior) whose gradient trains the prior more than the posterior.

    DreamerV2 (Hafner et al., 2021) computes the KL term of the world-model loss as
    `balance * max(mean KL(sg(post) || prior), free) + (1 - balance) * max(mean KL(post ||
    sg(prior)), free)`, where `sg` stops gradients and the mean is over every leading axis
    (batch and time). Its value is `max(mean KL(post || prior), free_nats)`; the prior receives
    `balance` of the gradient and the posterior `1 - balance`, so the prior learns to predict the
    representation faster than the representation collapses toward the prior. The maths runs in
    float32.

    Args:
        posterior: the posterior: logits (..., num_variables, num_classes) for
            `distribution="categorical"`, or `(mean, std)` of shape (..., size) for "gaussian".
        prior: the prior, in the same form.
        balance: the share of the gradient that goes to the prior, in [0, 1].
        free_nats: the KL below which the loss stops pushing (applied to the mean KL).
        distribution: "categorical" or "gaussian".

    Returns:
        A float32 scalar.

    Example:

    ```python
    post = np.random.randn(4, 32, 32).astype("float32")
    prior = np.random.randn(4, 32, 32).astype("float32")
    loss = kl_balancing(post, prior, balance=0.8)
    ```
    """
    if not 0.0 <= balance <= 1.0:
        raise ValueError(f"`balance` must be in [0, 1]. Received: balance={balance!r}")
    if free_nats < 0:
        raise ValueError(f"`free_nats` must be non-negative. Received: free_nats={free_nats!r}")
    if distribution == "categorical":
        posterior, prior = ops.convert_to_tensor(posterior), ops.convert_to_tensor(prior)
        kl, sg = categorical_kl, ops.stop_gradient
    elif distribution == "gaussian":
        kl = gaussian_kl
        posterior, prior = (tuple(ops.convert_to_tensor(v) for v in x) for x in (posterior, prior))

        def sg(x):
            return tuple(ops.stop_gradient(v) for v in x)

    else:
        raise ValueError(
            '`distribution` must be "categorical" or "gaussian". '
            f"Received: distribution={distribution!r}"
        )
    free = ops.convert_to_tensor(float(free_nats), "float32")
    prior_side = ops.maximum(ops.mean(kl(sg(posterior), prior)), free)
    posterior_side = ops.maximum(ops.mean(kl(posterior, sg(prior))), free)
    if math.isclose(balance, 1.0):
        return prior_side
    return balance * prior_side + (1.0 - balance) * posterior_side
