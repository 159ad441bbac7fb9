"""DreamerV2's recurrent state-space model with categorical latent variables."""

import keras
import numpy as np
from keras import ops

from keras_suite.layers.world_model.layer_norm_gru_cell import LayerNormGRUCell
from keras_suite.losses.kl_balancing import kl_balancing
from keras_suite.ops.static_scan import static_scan


@keras.saving.register_keras_serializable(package="keras_suite")
class CategoricalRSSM(keras.layers.Layer):
    """Recurrent state-space model with a GRU state and categorical stochastic latents.

    The world model of DreamerV2 (Hafner et al., 2021, "Mastering Atari with Discrete World
    Models"). The state is a dict with a deterministic part `deter` (batch, deter_size), kept by a
    layer-normalized GRU, and a stochastic part `stoch` (batch, stoch_size, num_classes): one
    one-hot sample per categorical variable, with straight-through gradients (the forward value is
    the one-hot sample, the gradient is that of the class probabilities). `logits` holds the
    distribution's logits. The prior predicts `stoch` from the past (`img_step`); the posterior
    also sees the current observation's embedding (`obs_step`). Samples are drawn by inverse
    transform: one uniform number per categorical variable, compared with the cumulative class
    probabilities (exact categorical samples, 1/num_classes of the random numbers and none of the
    logarithms of the Gumbel-max trick). Time loops run as `keras_suite.ops.static_scan`
    (XLA-compilable), with the sampling noise drawn before the loop from the layer's
    `keras.random.SeedGenerator`. `observe` keeps out of its loop what does not feed the
    recurrence: the embeddings' share of the posterior's first layer is one matrix product over
    all steps, and the priors' samples are drawn after the loop from their stacked logits.

    Args:
        deter_size: size of the deterministic GRU state (600 for Atari).
        stoch_size: number of categorical latent variables (32).
        num_classes: classes per latent variable (32).
        hidden_size: width of the hidden layers around the GRU (600 for Atari).
        unimix: weight of a uniform distribution mixed into the class probabilities (DreamerV3
            uses 0.01); 0 turns it off.
        seed: seed of the sampling noise.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        embed: observation embeddings, shape (batch, time, embed_dim).
        actions: the actions that led to each observation (zeros at episode starts), shape
            (batch, time, action_dim).
        is_first: 1 where an episode starts, shape (batch, time); the state is reset there.
        training: samples the latents when True; takes the most likely class otherwise.

    Returns:
        `(posterior, prior)`: two state dicts whose tensors have shape (batch, time, ...).

    Example:

    ```python
    rssm = CategoricalRSSM(deter_size=16, stoch_size=4, num_classes=4, hidden_size=16)
    embed = np.random.rand(2, 5, 8).astype("float32")
    actions = np.eye(3, dtype="float32")[np.random.randint(0, 3, (2, 5))]
    is_first = np.zeros((2, 5), "float32")
    posterior, prior = rssm(embed, actions, is_first, training=True)
    features = rssm.features(posterior)  # (2, 5, 4 * 4 + 16)
    imagined = rssm.imagine(actions, {k: v[:, -1] for k, v in posterior.items()})
    ```
    """

    stat_keys = ("logits",)

    def __init__(
        self,
        deter_size=600,
        stoch_size=32,
        num_classes=32,
        hidden_size=600,
        unimix=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("deter_size", deter_size),
            ("stoch_size", stoch_size),
            ("num_classes", num_classes),
            ("hidden_size", hidden_size),
        ):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        if not 0.0 <= unimix < 1.0:
            raise ValueError(f"`unimix` must be in [0, 1). Received: unimix={unimix!r}")
        self.deter_size = deter_size
        self.stoch_size = stoch_size
        self.num_classes = num_classes
        self.hidden_size = hidden_size
        self.unimix = unimix
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        policy = self.dtype_policy
        self.img_in = keras.layers.Dense(hidden_size, activation="elu", dtype=policy)
        self.gru = LayerNormGRUCell(deter_size, dtype=policy)
        self.img_out = keras.layers.Dense(hidden_size, activation="elu", dtype=policy)
        self.img_stats = keras.layers.Dense(self._stats_size(), dtype=policy)
        self.obs_out = keras.layers.Dense(hidden_size, activation="elu", dtype=policy)
        self.obs_stats = keras.layers.Dense(self._stats_size(), dtype=policy)
        self.action_dim = None

    # Distribution-specific parts (overridden by GaussianRSSM).

    def _stats_size(self):
        return self.stoch_size * self.num_classes

    def _stoch_shape(self):
        return (self.stoch_size, self.num_classes)

    def _stats(self, x):
        logits = ops.reshape(x, (-1, self.stoch_size, self.num_classes))
        if self.unimix > 0:
            probs = ops.softmax(ops.cast(logits, "float32"), axis=-1)
            probs = (1.0 - self.unimix) * probs + self.unimix / self.num_classes
            logits = ops.cast(ops.log(probs), self.compute_dtype)
        return {"logits": logits}

    def noise(self, shape):
        """The sampling noise of `shape` states: uniform numbers in [0, 1) for inverse-transform
        sampling, shape `shape + (stoch_size,)`, from the layer's seed generator. Draw it before
        a loop that samples (as `observe` and `imagine` do): a loop body that draws it would
        change the generator's state inside the loop, which JAX's traced loops forbid."""
        return keras.random.uniform(
            tuple(shape) + (self.stoch_size,), dtype="float32", seed=self.seed_generator
        )

    def _sample(self, stats, noise, sample):
        """One-hot samples (the most likely classes unless `sample`) with straight-through
        gradients; the sampled class is the first whose cumulative probability exceeds the
        variable's uniform number."""
        logits = ops.cast(stats["logits"], "float32")
        probs = ops.softmax(logits, axis=-1)
        if sample:
            # The cumulative probabilities as a product with an upper-triangular matrix of ones:
            # several times faster than `cumsum` over a short last axis on CPU.
            upper = np.triu(np.ones((self.num_classes, self.num_classes), "float32"))
            cdf = ops.matmul(probs, ops.convert_to_tensor(upper))
            below = cdf <= ops.cast(noise, "float32")[..., None]
            # Rounding can leave the last cumulative probability a hair under the uniform number.
            index = ops.minimum(ops.sum(ops.cast(below, "int32"), axis=-1), self.num_classes - 1)
        else:
            index = ops.argmax(logits, axis=-1)
        one_hot = ops.one_hot(index, self.num_classes, dtype="float32")
        stoch = one_hot + probs - ops.stop_gradient(probs)
        return ops.cast(stoch, self.compute_dtype)

    def kl_loss(self, posterior, prior, balance=0.8, free_nats=0.0):
        """Balanced KL(posterior || prior) averaged over the batch; see `kl_balancing`."""
        return kl_balancing(posterior["logits"], prior["logits"], balance, free_nats)

    def entropy(self, state):
        """Entropy of the latent distribution of `state`, summed over latents, shape (...)."""
        log_probs = ops.log_softmax(ops.cast(state["logits"], "float32"), axis=-1)
        return -ops.sum(ops.exp(log_probs) * log_probs, axis=(-2, -1))

    # Shared machinery.

    @property
    def feature_size(self):
        """Size of `features(state)`: flattened `stoch` plus `deter`."""
        size = 1
        for dim in self._stoch_shape():
            size *= dim
        return size + self.deter_size

    def build(self, embed_shape, actions_shape=None, is_first_shape=None):
        if actions_shape is None:
            raise ValueError(
                "`CategoricalRSSM` needs the shapes of `embed` and `actions` to build. "
                f"Received: embed_shape={embed_shape}, actions_shape={actions_shape}"
            )
        self._build_prior(actions_shape)
        self.obs_out.build((None, self.deter_size + int(embed_shape[-1])))
        self.obs_stats.build((None, self.hidden_size))

    def _build_prior(self, actions_shape):
        """Builds the prior's layers. `observe` and `imagine` build before their loops: a layer
        cannot make its weights inside a JAX-traced loop."""
        self.action_dim = int(actions_shape[-1])
        stoch_flat = self.feature_size - self.deter_size
        self.img_in.build((None, stoch_flat + self.action_dim))
        self.gru.build((None, self.hidden_size), (None, self.deter_size))
        self.img_out.build((None, self.deter_size))
        self.img_stats.build((None, self.hidden_size))

    def initial_state(self, batch_size):
        """The all-zero state for `batch_size` sequences."""
        dtype = self.compute_dtype
        state = {
            "deter": ops.zeros((batch_size, self.deter_size), dtype),
            "stoch": ops.zeros((batch_size,) + self._stoch_shape(), dtype),
        }
        for key in self.stat_keys:
            state[key] = ops.zeros((batch_size,) + self._stoch_shape(), dtype)
        return state

    def features(self, state):
        """Concatenation of the flattened stochastic state and the deterministic state."""
        stoch = state["stoch"]
        rank = len(self._stoch_shape())
        leading = list(ops.shape(stoch)[: len(stoch.shape) - rank])
        if None in leading:  # symbolic tensors: at most one unknown axis can be inferred
            leading[leading.index(None)] = -1
        flat = ops.reshape(stoch, tuple(leading) + (self.feature_size - self.deter_size,))
        return ops.concatenate([flat, state["deter"]], axis=-1)

    def img_step(self, state, action, noise=None, sample=True):
        """One prior step: the next state predicted from `state` and `action` alone."""
        if noise is None and sample:
            noise = self.noise(ops.shape(action)[:1])
        prior = self._prior(state, action)
        return dict(prior, stoch=self._sample(prior, noise, sample))

    def obs_step(self, prior, embed, noise=None, sample=True):
        """One posterior step: corrects the prior state with the observation embedding."""
        if noise is None and sample:
            noise = self.noise(ops.shape(embed)[:1])
        return self._posterior(prior["deter"], self._embed_share(embed), noise, sample)

    def _prior(self, state, action):
        """The prior's `deter` and distribution statistics, without the sample."""
        x = ops.concatenate([self._flat_stoch(state["stoch"]), action], axis=-1)
        deter = self.gru(self.img_in(x), state["deter"])
        return dict(self._stats(self.img_stats(self.img_out(deter))), deter=deter)

    def _embed_share(self, embed):
        """The embedding's part of the posterior's first layer: `obs_out` applied to
        concat(deter, embed) is `deter @ kernel[:deter_size] + embed @ kernel[deter_size:]`."""
        if not self.obs_out.built:  # `observe` or `obs_step` called before the layer was built
            self.obs_out.build((None, self.deter_size + int(embed.shape[-1])))
        kernel = self.obs_out.kernel[self.deter_size :]
        return ops.matmul(embed, ops.cast(kernel, embed.dtype))

    def _posterior(self, deter, embed_share, noise, sample):
        """The posterior state from the prior's `deter` and the embedding's `_embed_share`."""
        kernel = ops.cast(self.obs_out.kernel[: self.deter_size], deter.dtype)
        x = ops.matmul(deter, kernel) + embed_share + ops.cast(self.obs_out.bias, deter.dtype)
        stats = self._stats(self.obs_stats(self.obs_out.activation(x)))
        return dict(stats, deter=deter, stoch=self._sample(stats, noise, sample))

    def observe(self, embed, actions, is_first, state=None, sample=True):
        """Filters a batch of sequences; returns `(posterior, prior)` over (batch, time, ...).

        Where `is_first` is 1, the previous state and action are reset to zero before the step.
        """
        self._check_sequences(embed, actions, is_first)
        if not self.built:
            self.build(embed.shape, actions.shape)
            self.built = True
        batch, steps = ops.shape(embed)[0], ops.shape(embed)[1]
        if state is None:
            state = self.initial_state(batch)
        dtype = self.compute_dtype
        time_major = [ops.moveaxis(ops.cast(x, dtype), 1, 0) for x in (embed, actions)]
        first = ops.moveaxis(ops.cast(ops.reshape(is_first, (batch, steps)), dtype), 1, 0)
        noise = self.noise((2, steps, batch)) if sample else ops.zeros((2, steps, batch), dtype)

        def step(carry, inputs):
            # The carry holds both the posterior (the state) and the prior of the step, so that
            # the stacked carries are the outputs.
            embed_t, action_t, first_t, noise_t = inputs
            keep = 1.0 - first_t
            # Only `deter` and `stoch` feed the next step; the distribution statistics do not.
            state = {
                k: carry[0][k] * ops.reshape(keep, (-1,) + (1,) * (len(carry[0][k].shape) - 1))
                for k in ("deter", "stoch")
            }
            prior = self._prior(state, action_t * keep[:, None])
            return self._posterior(prior["deter"], embed_t, noise_t, sample), prior

        prior_init = {k: v for k, v in state.items() if k != "stoch"}
        posterior, prior = static_scan(
            step,
            (state, prior_init),
            (self._embed_share(time_major[0]), time_major[1], first, noise[1]),
        )
        # The priors' samples do not feed the recurrence: drawn at once after the loop.
        prior["stoch"] = self._sample(prior, noise[0], sample)
        return self._batch_major(posterior), self._batch_major(prior)

    def imagine(self, actions, state, sample=True):
        """Rolls the prior forward from `state` under `actions` (batch, time, action_dim)."""
        if not self.img_in.built:
            self._build_prior(actions.shape)
        batch, steps = ops.shape(actions)[0], ops.shape(actions)[1]
        dtype = self.compute_dtype
        noise = self.noise((steps, batch)) if sample else ops.zeros((steps, batch), dtype)

        def step(carry, inputs):
            action_t, noise_t = inputs
            return self.img_step(carry, action_t, noise_t, sample)

        prior = static_scan(step, state, (ops.moveaxis(ops.cast(actions, dtype), 1, 0), noise))
        return self._batch_major(prior)

    def call(self, embed, actions, is_first, training=None):
        return self.observe(embed, actions, is_first, sample=bool(training))

    def _flat_stoch(self, stoch):
        return ops.reshape(stoch, (ops.shape(stoch)[0], -1))

    def _batch_major(self, state):
        return {k: ops.moveaxis(v, 0, 1) for k, v in state.items()}

    def _check_sequences(self, embed, actions, is_first):
        if len(embed.shape) != 3 or len(actions.shape) != 3:
            raise ValueError(
                "`embed` and `actions` must have shape (batch, time, features). Received: "
                f"embed.shape={tuple(embed.shape)}, actions.shape={tuple(actions.shape)}"
            )
        if len(is_first.shape) not in (2, 3):
            raise ValueError(
                "`is_first` must have shape (batch, time). Received: "
                f"is_first.shape={tuple(is_first.shape)}"
            )

    def get_config(self):
        return dict(
            super().get_config(),
            deter_size=self.deter_size,
            stoch_size=self.stoch_size,
            num_classes=self.num_classes,
            hidden_size=self.hidden_size,
            unimix=self.unimix,
            seed=self.seed,
        )
