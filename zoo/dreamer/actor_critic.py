"""DreamerV2's behaviour: an actor and a critic learned on imagined trajectories."""

import keras
from keras import ops

from keras_suite.layers import MLPHead
from keras_suite.ops import lambda_returns, static_scan
from keras_suite.zoo.dreamer import truncated_normal


@keras.saving.register_keras_serializable(package="keras_suite")
class ActorCritic(keras.layers.Layer):
    """Actor, critic and slow target critic trained inside a world model's imagination.

    From each start state the actor imagines `horizon` steps with the world model's prior. The
    critic regresses lambda-returns (`keras_suite.ops.lambda_returns`, computed with the target
    critic), weighted by the cumulative predicted discount. The actor maximizes the returns with
    REINFORCE (discrete actions, baseline = target critic) or by backpropagating through the
    dynamics (continuous actions), plus an entropy bonus. The target critic is a hard copy of the
    critic refreshed every `target_update_every` updates (Hafner et al., 2021).

    Args:
        num_actions: number of discrete actions, or size of the continuous action vector.
        continuous_actions: truncated-normal actions in [-1, 1] instead of one-hot ones.
        mlp_units, mlp_layers: size of the actor and critic MLPs.
        discount: the discount factor of imagined rewards.
        lambda_: the lambda of the returns.
        horizon: imagination length.
        actor_entropy: entropy bonus scale.
        actor_grad: "reinforce" or "dynamics"; `None` picks REINFORCE for discrete actions and
            dynamics backpropagation for continuous ones.
        target_update_every: updates between target-critic copies.
        seed: seed of action sampling.
        **kwargs: base layer arguments.

    Call arguments:
        features: model features, shape (..., feature_size).

    Returns:
        The actor's distribution parameters: logits (..., num_actions), or the concatenated
        mean and std of the truncated normal (..., 2 * num_actions).

    Example:

    ```python
    ac = ActorCritic(num_actions=4, mlp_units=32, mlp_layers=2)
    params = ac(np.zeros((3, 20), "float32"))  # (3, 4) logits
    ```
    """

    def __init__(
        self,
        num_actions,
        continuous_actions=False,
        mlp_units=400,
        mlp_layers=4,
        discount=0.999,
        lambda_=0.95,
        horizon=15,
        actor_entropy=1e-3,
        actor_grad=None,
        target_update_every=100,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if actor_grad not in (None, "reinforce", "dynamics"):
            raise ValueError(
                '`actor_grad` must be "reinforce", "dynamics" or None. '
                f"Received: actor_grad={actor_grad!r}"
            )
        if not isinstance(horizon, int) or horizon < 1:
            raise ValueError(f"`horizon` must be a positive integer. Received: horizon={horizon!r}")
        self.num_actions = num_actions
        self.continuous_actions = continuous_actions
        self.mlp_units = mlp_units
        self.mlp_layers = mlp_layers
        self.discount = discount
        self.lambda_ = lambda_
        self.horizon = horizon
        self.actor_entropy = actor_entropy
        self.actor_grad = actor_grad or ("dynamics" if continuous_actions else "reinforce")
        self.target_update_every = target_update_every
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        out = 2 * num_actions if continuous_actions else num_actions
        self.actor = MLPHead(out, mlp_units, mlp_layers, name="actor")
        self.critic = MLPHead(None, mlp_units, mlp_layers, name="critic")
        self.target_critic = MLPHead(None, mlp_units, mlp_layers, name="target_critic")
        self.target_critic.trainable = False

    def build(self, features_shape):
        for head in (self.actor, self.critic, self.target_critic):
            head.build(features_shape)
        self.updates = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="updates", dtype="float32"
        )

    def call(self, features):
        return self.actor(features)

    # The action distribution.

    def _dist(self, params):
        params = ops.cast(params, "float32")
        if not self.continuous_actions:
            return params
        mean, std = ops.split(params, 2, axis=-1)
        return ops.tanh(mean), 2.0 * ops.sigmoid(std / 2.0) + 0.1

    def action_noise(self, shape):
        """Uniform numbers in (0, 1) for `sample_action`, shape `shape + (num_actions,)`, from the
        layer's seed generator (drawn before a loop, as JAX's traced loops require)."""
        return keras.random.uniform(
            tuple(shape) + (self.num_actions,), 1e-6, 1.0 - 1e-6, seed=self.seed_generator
        )

    def sample_action(self, params, sample=True, noise=None):
        """An action from the actor's parameters: a straight-through one-hot sample (discrete)
        or a reparameterized truncated-normal sample; the mode when `sample` is False. `noise`
        is the uniform numbers of the sample (see `action_noise`), drawn here when None."""
        dist = self._dist(params)
        if self.continuous_actions:
            mean, std = dist
            if not sample:
                return mean
            if noise is None:
                noise = self.action_noise(ops.shape(mean)[:-1])
            return truncated_normal.sample(mean, std, uniform=noise)
        logits = scores = dist
        if sample:
            if noise is None:
                noise = self.action_noise(ops.shape(logits)[:-1])
            scores = logits - ops.log(-ops.log(noise))
        one_hot = ops.one_hot(ops.argmax(scores, axis=-1), self.num_actions, dtype="float32")
        probs = ops.softmax(logits, axis=-1)
        return one_hot + probs - ops.stop_gradient(probs)

    def log_prob(self, params, action):
        dist = self._dist(params)
        if self.continuous_actions:
            return truncated_normal.log_prob(action, *dist)
        return ops.sum(action * ops.log_softmax(dist, axis=-1), axis=-1)

    def entropy(self, params):
        dist = self._dist(params)
        if self.continuous_actions:
            return truncated_normal.entropy(*dist)
        log_probs = ops.log_softmax(dist, axis=-1)
        return -ops.sum(ops.exp(log_probs) * log_probs, axis=-1)

    # Imagination and losses.

    def imagine(self, rssm, start):
        """Rolls out the actor in `rssm` from `start` (states of shape (n, ...)).

        Returns:
            `(features, actions)` of shapes (horizon + 1, n, feature_size) and
            (horizon, n, num_actions): time-major, the start state first.
        """
        batch = ops.shape(start["deter"])[0]
        first_action = ops.zeros((batch, self.num_actions), "float32")
        # The sampling noise is drawn before the loop (see `CategoricalRSSM.noise`).
        noise = (self.action_noise((self.horizon, batch)), rssm.noise((self.horizon, batch)))

        def step(carry, noise_t):
            state, _ = carry
            features = ops.stop_gradient(rssm.features(state))
            action = self.sample_action(self.actor(features), noise=noise_t[0])
            return rssm.img_step(state, action, noise_t[1]), action

        states, actions = static_scan(step, (start, first_action), noise)
        features = ops.concatenate([rssm.features(start)[None], rssm.features(states)], axis=0)
        return features, actions

    def returns(self, features, reward_head, discount_head, start_discount):
        """Lambda-returns, critic values and weights of an imagined trajectory (time-major)."""
        # The start state's reward is never used and its discount is the data's, so the heads
        # only run on the imagined states.
        reward = ops.cast(reward_head(features[1:]), "float32")
        discount = ops.sigmoid(ops.cast(discount_head(features[1:]), "float32")) * self.discount
        discount = ops.concatenate([start_discount[None] * self.discount, discount], axis=0)
        value = ops.cast(self.target_critic(features), "float32")
        target = lambda_returns(reward, value[:-1], discount[1:], value[-1], self.lambda_, axis=0)
        weight = ops.stop_gradient(
            ops.cumprod(ops.concatenate([ops.ones_like(discount[:1]), discount[:-1]], 0), axis=0)
        )
        return target, value, weight

    def actor_loss(self, features, actions, target, baseline, weight):
        features, actions, target, baseline, weight = (
            ops.convert_to_tensor(x) for x in (features, actions, target, baseline, weight)
        )
        params = self.actor(ops.stop_gradient(features[:-1]))
        entropy = self.entropy(params)
        if self.actor_grad == "reinforce":
            advantage = ops.stop_gradient(target - baseline[:-1])
            objective = self.log_prob(params, ops.stop_gradient(actions)) * advantage
        else:
            objective = target
        objective = objective + self.actor_entropy * entropy
        return -ops.mean(weight[:-1] * objective), ops.mean(entropy)

    def critic_loss(self, features, target, weight):
        features, target, weight = (ops.convert_to_tensor(x) for x in (features, target, weight))
        value = ops.cast(self.critic(ops.stop_gradient(features[:-1])), "float32")
        return ops.mean(weight[:-1] * 0.5 * (value - ops.stop_gradient(target)) ** 2)

    def update_target(self):
        """Copies the critic into the target critic every `target_update_every` calls."""
        copy = ops.cast(ops.equal(ops.mod(self.updates, self.target_update_every), 0.0), "float32")
        for target, source in zip(self.target_critic.weights, self.critic.weights):
            target.assign(copy * source + (1.0 - copy) * target)
        self.updates.assign_add(1.0)

    def get_config(self):
        return dict(
            super().get_config(),
            num_actions=self.num_actions,
            continuous_actions=self.continuous_actions,
            mlp_units=self.mlp_units,
            mlp_layers=self.mlp_layers,
            discount=self.discount,
            lambda_=self.lambda_,
            horizon=self.horizon,
            actor_entropy=self.actor_entropy,
            actor_grad=self.actor_grad,
            target_update_every=self.target_update_every,
            seed=self.seed,
        )
