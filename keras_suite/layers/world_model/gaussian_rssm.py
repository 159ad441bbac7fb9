"""The Gaussian-latent variant of DreamerV2's RSSM (the paper's ablation, as in PlaNet)."""

import keras
from keras import ops

from keras_suite.layers.world_model.categorical_rssm import CategoricalRSSM
from keras_suite.losses.kl_balancing import kl_balancing


@keras.saving.register_keras_serializable(package="keras_suite")
class GaussianRSSM(CategoricalRSSM):
    """Recurrent state-space model with diagonal Gaussian stochastic latents.

    The same GRU-based model as `CategoricalRSSM`, with `stoch` of shape (batch, stoch_size)
    drawn by the reparameterization trick from a Gaussian whose `mean` and `std` are part of the
    state (std = 2 * sigmoid(x / 2) + min_std, as in DreamerV2). DreamerV2 compares the two latent
    types in its ablations; categorical latents win on Atari.

    Args:
        deter_size: size of the deterministic GRU state.
        stoch_size: number of Gaussian latent dimensions.
        hidden_size: width of the hidden layers around the GRU.
        min_std: lower bound of the standard deviation.
        seed: seed of the sampling noise.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        embed: observation embeddings, shape (batch, time, embed_dim).
        actions: the actions that led to each observation, shape (batch, time, action_dim).
        is_first: 1 where an episode starts, shape (batch, time).
        training: samples the latents when True; uses the mean otherwise.

    Returns:
        `(posterior, prior)` state dicts with keys `deter`, `stoch`, `mean`, `std`.

    Example:

    ```python
    rssm = GaussianRSSM(deter_size=16, stoch_size=4, hidden_size=16)
    posterior, prior = rssm(
        np.ones((2, 5, 8), "float32"), np.zeros((2, 5, 3), "float32"), np.zeros((2, 5), "float32")
    )
    ```
    """

    stat_keys = ("mean", "std")

    def __init__(
        self, deter_size=200, stoch_size=32, hidden_size=200, min_std=0.1, seed=None, **kwargs
    ):
        if min_std <= 0:
            raise ValueError(f"`min_std` must be positive. Received: min_std={min_std!r}")
        super().__init__(
            deter_size=deter_size,
            stoch_size=stoch_size,
            num_classes=1,
            hidden_size=hidden_size,
            seed=seed,
            **kwargs,
        )
        self.min_std = min_std

    def _stats_size(self):
        return 2 * self.stoch_size

    def _stoch_shape(self):
        return (self.stoch_size,)

    def _stats(self, x):
        mean, std = ops.split(x, 2, axis=-1)
        return {"mean": mean, "std": 2.0 * ops.sigmoid(std / 2.0) + self.min_std}

    def noise(self, shape):
        """Standard normal sampling noise of shape `shape + (stoch_size,)`."""
        return keras.random.normal(
            tuple(shape) + self._stoch_shape(), dtype=self.compute_dtype, seed=self.seed_generator
        )

    def _sample(self, stats, noise, sample):
        if not sample:
            return stats["mean"]
        return stats["mean"] + stats["std"] * noise

    def kl_loss(self, posterior, prior, balance=0.8, free_nats=0.0):
        """Balanced KL(posterior || prior) averaged over the batch; see `kl_balancing`."""
        return kl_balancing(
            (posterior["mean"], posterior["std"]),
            (prior["mean"], prior["std"]),
            balance,
            free_nats,
            distribution="gaussian",
        )

    def entropy(self, state):
        std = ops.cast(state["std"], "float32")
        return ops.sum(0.5 * ops.log(2.0 * 3.141592653589793 * 2.718281828459045 * std**2), -1)

    def get_config(self):
        config = super().get_config()
        del config["num_classes"], config["unimix"]
        return dict(config, min_std=self.min_std)
