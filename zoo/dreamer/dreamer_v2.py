"""DreamerV2: a world model and an actor-critic trained together with `model.fit`."""

import os

import keras
import numpy as np
from keras import ops

from keras_suite.presets.preset_mixin import PresetMixin
from keras_suite.zoo.dreamer import backend
from keras_suite.zoo.dreamer.actor_critic import ActorCritic
from keras_suite.zoo.dreamer.configs import get_config
from keras_suite.zoo.dreamer.world_model import WorldModel, scale_images


@keras.saving.register_keras_serializable(package="keras_suite")
class DreamerV2(PresetMixin, keras.Model):
    """DreamerV2 (Hafner et al., 2021): behaviour learned in a discrete world model.

    `fit` on a `tf.data.Dataset` of (batch, time) sequence dicts trains, at every step, the
    `WorldModel` on the sequences, then the `ActorCritic` on trajectories imagined for `horizon`
    steps from every posterior state, each with its own Adam optimizer (learning rates
    `model_lr`, `actor_lr`, `critic_lr`, global gradient-norm clip `clip_grad`).
    `policy(obs, state)` acts in an environment. The hyper-parameters of the paper's Atari and
    DMC runs, small CPU configs, and a config for MinAtar's 10x10 binary grids, come with
    `DreamerV2.from_hparams("atari", ...)`.

    Args:
        obs_shape: image shape (height, width, channels), or a dict from observation key to
            shape (images (height, width, channels), vectors (size,)); see `WorldModel`.
        num_actions: number of discrete actions, or continuous action size.
        continuous_actions: whether actions are continuous vectors in [-1, 1].
        depth, deter_size, stoch_size, num_classes, hidden_size, latent: world-model sizes
            (see `WorldModel`).
        mlp_units, mlp_layers: size of all MLP heads.
        kl_scale, kl_balance, free_nats, discount_scale, reward_transform, image_dist:
            world-model loss (`image_dist="bernoulli"` for binary images such as MinAtar's).
        discount, lambda_, horizon, actor_entropy, actor_grad, target_update_every: behaviour
            (see `ActorCritic`).
        model_lr, actor_lr, critic_lr, clip_grad: optimizers.
        seed: seed of all sampling.
        **kwargs: base model arguments.

    Call arguments:
        data: a replay batch dict: the observation keys (e.g. `image`, uint8, (batch, time,
            64, 64, channels)), `action` (batch, time, num_actions), `reward`, `is_first`,
            `is_terminal` (batch, time).

    Returns:
        The world model's outputs (see `WorldModel`) plus `action`: the actor's most likely
        action at every step.

    Example:

    ```python
    agent = DreamerV2.from_hparams("tiny", obs_shape=(64, 64, 1), num_actions=6)
    agent.compile()
    agent.fit(replay.dataset(), steps_per_epoch=100)
    action, state = agent.policy(obs_batch, state=None)
    ```
    """

    preset_dir = os.path.join(os.path.dirname(__file__), "presets")

    def __init__(
        self,
        obs_shape=(64, 64, 1),
        num_actions=6,
        continuous_actions=False,
        depth=48,
        deter_size=600,
        stoch_size=32,
        num_classes=32,
        hidden_size=600,
        latent="categorical",
        mlp_units=400,
        mlp_layers=4,
        kl_scale=0.1,
        kl_balance=0.8,
        free_nats=0.0,
        discount_scale=5.0,
        reward_transform="tanh",
        image_dist="gaussian",
        discount=0.999,
        lambda_=0.95,
        horizon=15,
        actor_entropy=1e-3,
        actor_grad=None,
        target_update_every=100,
        model_lr=2e-4,
        actor_lr=4e-5,
        critic_lr=1e-4,
        clip_grad=100.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_actions = num_actions
        self.continuous_actions = continuous_actions
        self.model_lr = model_lr
        self.actor_lr = actor_lr
        self.critic_lr = critic_lr
        self.clip_grad = clip_grad
        self.seed = seed
        self.world_model = WorldModel(
            obs_shape,
            num_actions,
            depth,
            deter_size,
            stoch_size,
            num_classes,
            hidden_size,
            latent,
            mlp_units,
            mlp_layers,
            kl_scale,
            kl_balance,
            free_nats,
            discount_scale,
            reward_transform,
            model_lr,
            clip_grad,
            image_dist=image_dist,
            seed=seed,
            name="world_model",
        )
        self.obs_shape = self.world_model.obs_shape
        self.actor_critic = ActorCritic(
            num_actions,
            continuous_actions,
            mlp_units,
            mlp_layers,
            discount,
            lambda_,
            horizon,
            actor_entropy,
            actor_grad,
            target_update_every,
            seed=None if seed is None else seed + 1,
            name="actor_critic",
        )
        self.build()

    @classmethod
    def from_hparams(cls, name, obs_shape, num_actions, **overrides):
        """A fresh agent with the hyper-parameters of config `name` ("atari", "dmc", "small",
        "tiny", "minatar"), for observations `obs_shape` and `num_actions` actions; `overrides`
        replace individual values."""
        return cls(
            obs_shape=obs_shape,
            num_actions=num_actions,
            **dict(get_config(name)["model"], **overrides),
        )

    def build(self, input_shape=None):
        if self.built:
            return
        self.actor_critic.build((None, self.world_model.rssm.feature_size))
        self.built = True

    @property
    def rssm(self):
        return self.world_model.rssm

    def compile(self, jit_compile=False, **kwargs):
        """Creates the three Adam optimizers.

        `jit_compile=True` runs `train_step` under XLA on TensorFlow. On JAX the update is
        always compiled with `jax.jit` (unless `run_eagerly=True`); PyTorch runs it eagerly.
        """

        def adam(lr):
            return keras.optimizers.Adam(lr, epsilon=1e-5, global_clipnorm=self.clip_grad)

        self._jit_compile = jit_compile
        self._backend_functions = {}
        self.model_optimizer = adam(self.model_lr)
        self.actor_optimizer = adam(self.actor_lr)
        self.critic_optimizer = adam(self.critic_lr)
        # Keras's own compilation only where it can hold the whole update: JAX's `jax.jit`
        # carries the variables of one optimizer only (see `backend/jax_update.py`).
        keras_jit = jit_compile and keras.config.backend() == "tensorflow"
        super().compile(optimizer=self.model_optimizer, jit_compile=keras_jit, **kwargs)
        self.model_optimizer.build(self.world_model.trainable_variables)
        self.actor_optimizer.build(self.actor_critic.actor.trainable_variables)
        self.critic_optimizer.build(self.actor_critic.critic.trainable_variables)

    def get_compile_config(self):
        if getattr(self, "model_optimizer", None) is None:
            return None
        return {"jit_compile": self._jit_compile}

    def compile_from_config(self, config):
        self.compile(jit_compile=bool(config.get("jit_compile", False)))

    def save_to_preset(self, path, metadata=None):
        """Writes the agent as a preset folder (weights only: optimizer states stay out)."""
        clean = type(self).from_config(self.get_config())
        clean.set_weights(self.get_weights())
        PresetMixin.save_to_preset(clean, path, metadata)

    @property
    def optimizer_variables(self):
        """The variables of the three optimizers (for checkpoints that resume exactly)."""
        return [
            v
            for opt in (self.model_optimizer, self.actor_optimizer, self.critic_optimizer)
            for v in opt.variables
        ]

    def train_step(self, *args):
        # One update per backend (`keras_suite.zoo.dreamer.backend`): the world model on the
        # replay batch, then the actor and the critic on trajectories imagined from its
        # posterior states, each with its own optimizer, then the target critic.
        return backend.train_step(self, *args)

    def _imagination_start(self, posterior, inputs):
        """The imagination's start states (every posterior state, without gradient) and their
        discounts (the data's), flattened over batch and time."""
        start = {k: ops.stop_gradient(_flatten(v)) for k, v in posterior.items()}
        return start, ops.reshape(inputs["discount"], (-1,))

    def call(self, data, training=False):
        outputs = self.world_model(data, training=training)
        params = self.actor_critic(outputs["features"])
        outputs["action"] = self.actor_critic.sample_action(params, sample=False)
        return outputs

    def initial_policy_state(self, batch_size):
        """The policy state before the first observation: a zero RSSM state and action."""
        return (
            self.rssm.initial_state(batch_size),
            ops.zeros((batch_size, self.num_actions), "float32"),
        )

    def policy(self, obs, state=None, training=False):
        """Chooses actions for a batch of observations.

        Args:
            obs: dict with the observation keys (e.g. `image`, uint8, (batch, 64, 64, channels))
                and `is_first` (batch,).
            state: the state returned by the previous call, or None at the start.
            training: samples actions (exploration) when True; takes the mode otherwise.

        Returns:
            `(actions, state)`: actions as numpy arrays (one-hot rows for discrete actions,
            vectors in [-1, 1] for continuous ones) and the new state.
        """
        wm = self.world_model
        observations = {}
        for key in wm.obs_keys:
            if key not in obs:
                raise ValueError(
                    f"`obs` must hold the observation keys {list(wm.obs_keys)}. "
                    f"Received: keys={sorted(obs)}"
                )
            value = np.asarray(obs[key], np.uint8 if key in wm.image_keys else np.float32)
            if value.shape[1:] != wm.obs_shapes[key]:
                raise ValueError(
                    f"`obs[{key!r}]` must have shape (batch, *{wm.obs_shapes[key]}). "
                    f"Received: shape={value.shape}"
                )
            observations[key] = value
        batch = len(observations[wm.obs_keys[0]])
        if state is None:
            state = self.initial_policy_state(batch)
        if not hasattr(self, "_policy_fns"):
            self._policy_fns = {}
        if training not in self._policy_fns:
            self._policy_fns[training] = backend.policy_function(self, training)
        is_first = ops.convert_to_tensor(np.asarray(obs["is_first"], np.float32).reshape(-1))
        action, state = self._policy_fns[training](observations, is_first, state)
        return ops.convert_to_numpy(action), state

    def _policy_step(self, observations, is_first, state, sample):
        latent, prev_action = state
        keep = 1.0 - is_first
        latent = {
            k: v * ops.reshape(keep, (-1,) + (1,) * (len(v.shape) - 1)) for k, v in latent.items()
        }
        wm = self.world_model
        inputs = {k: ops.cast(v, "float32") for k, v in observations.items()}
        inputs.update({k: scale_images(inputs[k], wm.image_dist) for k in wm.image_keys})
        embed = wm.embed(inputs)
        prior = self.rssm.img_step(latent, prev_action * keep[:, None], sample=sample)
        posterior = self.rssm.obs_step(prior, embed, sample=sample)
        params = self.actor_critic(self.rssm.features(posterior))
        action = ops.stop_gradient(self.actor_critic.sample_action(params, sample=sample))
        return action, (posterior, action)

    def get_config(self):
        wm, ac = self.world_model, self.actor_critic
        return dict(
            super().get_config(),
            obs_shape=self.obs_shape,
            num_actions=self.num_actions,
            continuous_actions=self.continuous_actions,
            depth=wm.depth,
            deter_size=wm.deter_size,
            stoch_size=wm.stoch_size,
            num_classes=wm.num_classes,
            hidden_size=wm.hidden_size,
            latent=wm.latent,
            mlp_units=wm.mlp_units,
            mlp_layers=wm.mlp_layers,
            kl_scale=wm.kl_scale,
            kl_balance=wm.kl_balance,
            free_nats=wm.free_nats,
            discount_scale=wm.discount_scale,
            reward_transform=wm.reward_transform,
            image_dist=wm.image_dist,
            discount=ac.discount,
            lambda_=ac.lambda_,
            horizon=ac.horizon,
            actor_entropy=ac.actor_entropy,
            actor_grad=ac.actor_grad,
            target_update_every=ac.target_update_every,
            model_lr=self.model_lr,
            actor_lr=self.actor_lr,
            critic_lr=self.critic_lr,
            clip_grad=self.clip_grad,
            seed=self.seed,
        )


def _flatten(x):
    return ops.reshape(x, (-1,) + tuple(x.shape[2:]))
