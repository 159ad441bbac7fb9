"""DreamerV2's world model: encoder, RSSM, image decoder, reward and discount heads."""

import keras
from keras import ops

from keras_suite.layers import CategoricalRSSM, ConvDecoder, ConvEncoder, GaussianRSSM, MLPHead


def preprocess(data, reward_transform="tanh"):
    """Turns a replay batch into model inputs: images in [-0.5, 0.5], transformed rewards,
    float `is_first`, and the discount target `1 - is_terminal`."""
    if reward_transform not in ("tanh", "identity"):
        raise ValueError(
            '`reward_transform` must be "tanh" or "identity". '
            f"Received: reward_transform={reward_transform!r}"
        )
    reward = ops.cast(data["reward"], "float32")
    return {
        "image": ops.cast(data["image"], "float32") / 255.0 - 0.5,
        "action": ops.cast(data["action"], "float32"),
        "reward": ops.tanh(reward) if reward_transform == "tanh" else reward,
        "is_first": ops.cast(data["is_first"], "float32"),
        "discount": 1.0 - ops.cast(data["is_terminal"], "float32"),
    }


@keras.saving.register_keras_serializable(package="keras_suite")
class WorldModel(keras.Model):
    """The DreamerV2 world model, trainable on its own with `model.fit`.

    Encodes 64x64 images with `ConvEncoder`, filters them with a `CategoricalRSSM` (or a
    `GaussianRSSM`), and reconstructs images (`ConvDecoder`, unit-variance Gaussian, i.e. summed
    squared error), rewards (MSE) and episode continuation (Bernoulli) from the model features.
    The loss is `image + reward + discount_scale * discount + kl_scale * KL`, the KL balanced as
    in `keras_suite.losses.kl_balancing` (Hafner et al., 2021).

    Args:
        obs_shape: the image shape, (64, 64, channels).
        num_actions: size of the action vectors.
        depth, deter_size, stoch_size, num_classes, hidden_size: encoder/decoder depth and RSSM
            sizes.
        latent: "categorical" or "gaussian" (the paper's ablation).
        mlp_units, mlp_layers: reward and discount heads.
        kl_scale, kl_balance, free_nats, discount_scale: loss weights.
        reward_transform: "tanh" (Atari) or "identity".
        learning_rate, clip_grad: Adam settings used by `compile()` without an optimizer.
        seed: seed of the latent sampling.
        **kwargs: base model arguments (`name`).

    Call arguments:
        data: a dict with `image` (uint8, (batch, time, *obs_shape)), `action` (batch, time,
            num_actions; the action that led to each frame), `reward`, `is_first` and
            `is_terminal` (batch, time).

    Returns:
        A dict with `features`, `image` (the reconstruction in [-0.5, 0.5]), `reward`, and
        `discount` (the continuation probability); the latents take their most likely class
        unless `training`.

    Example:

    ```python
    model = WorldModel(obs_shape=(64, 64, 1), num_actions=3, depth=4, deter_size=16,
                       stoch_size=4, num_classes=4, hidden_size=16, mlp_units=16, mlp_layers=1)
    model.compile()
    model.fit(dataset_of_sequence_dicts, epochs=1)
    ```
    """

    def __init__(
        self,
        obs_shape=(64, 64, 1),
        num_actions=6,
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
        learning_rate=2e-4,
        clip_grad=100.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        obs_shape = tuple(obs_shape)
        if len(obs_shape) != 3 or obs_shape[:2] != (64, 64):
            raise ValueError(
                f"`obs_shape` must be (64, 64, channels). Received: obs_shape={obs_shape}"
            )
        if latent not in ("categorical", "gaussian"):
            raise ValueError(
                f'`latent` must be "categorical" or "gaussian". Received: latent={latent!r}'
            )
        self.obs_shape = obs_shape
        self.num_actions = num_actions
        self.depth = depth
        self.deter_size = deter_size
        self.stoch_size = stoch_size
        self.num_classes = num_classes
        self.hidden_size = hidden_size
        self.latent = latent
        self.mlp_units = mlp_units
        self.mlp_layers = mlp_layers
        self.kl_scale = kl_scale
        self.kl_balance = kl_balance
        self.free_nats = free_nats
        self.discount_scale = discount_scale
        self.reward_transform = reward_transform
        self.learning_rate = learning_rate
        self.clip_grad = clip_grad
        self.seed = seed
        self.encoder = ConvEncoder(depth, name="encoder")
        if latent == "categorical":
            self.rssm = CategoricalRSSM(
                deter_size, stoch_size, num_classes, hidden_size, seed=seed, name="rssm"
            )
        else:
            self.rssm = GaussianRSSM(deter_size, stoch_size, hidden_size, seed=seed, name="rssm")
        self.decoder = ConvDecoder(obs_shape[-1], depth, name="decoder")
        self.reward_head = MLPHead(None, mlp_units, mlp_layers, name="reward_head")
        self.discount_head = MLPHead(None, mlp_units, mlp_layers, name="discount_head")
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        self.encoder.build((None,) + self.obs_shape)
        embed_dim = self.encoder.compute_output_shape((None,) + self.obs_shape)[-1]
        self.rssm.build((None, None, embed_dim), (None, None, self.num_actions))
        feature_shape = (None, self.rssm.feature_size)
        for layer in (self.decoder, self.reward_head, self.discount_head):
            layer.build(feature_shape)
        self.built = True

    def compile(self, optimizer=None, **kwargs):
        optimizer = optimizer or keras.optimizers.Adam(
            self.learning_rate, epsilon=1e-5, global_clipnorm=self.clip_grad
        )
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.trainable_variables)

    def observe(self, inputs, sample=True):
        """Posterior and prior states of preprocessed `inputs` (see `preprocess`)."""
        embed = self.encoder(inputs["image"])
        return self.rssm.observe(embed, inputs["action"], inputs["is_first"], sample=sample)

    def compute_losses(self, inputs, sample=True):
        """The world-model losses of preprocessed `inputs`; returns (loss, metrics, posterior)."""
        posterior, prior = self.observe(inputs, sample)
        features = self.rssm.features(posterior)
        error = ops.cast(self.decoder(features), "float32") - inputs["image"]
        image_loss = ops.mean(0.5 * ops.sum(error**2, axis=(-3, -2, -1)))
        reward = ops.cast(self.reward_head(features), "float32")
        reward_loss = ops.mean(0.5 * (reward - inputs["reward"]) ** 2)
        logits = ops.cast(self.discount_head(features), "float32")
        discount_loss = ops.mean(
            ops.binary_crossentropy(inputs["discount"], logits, from_logits=True)
        )
        kl = self.rssm.kl_loss(posterior, prior, self.kl_balance, self.free_nats)
        loss = image_loss + reward_loss + self.discount_scale * discount_loss + self.kl_scale * kl
        metrics = {
            "model_loss": loss,
            "image_loss": image_loss,
            "reward_loss": reward_loss,
            "discount_loss": discount_loss,
            "kl": kl,
        }
        return loss, metrics, posterior

    def train_step(self, data):
        import tensorflow as tf

        if isinstance(data, tuple):  # `train_on_batch(x)` passes (x, None, None)
            data = data[0]
        inputs = preprocess(data, self.reward_transform)
        with tf.GradientTape() as tape:
            loss, metrics, _ = self.compute_losses(inputs)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return dict(metrics, loss=loss)

    def test_step(self, data):
        loss, metrics, _ = self.compute_losses(preprocess(data, self.reward_transform))
        return dict(metrics, loss=loss)

    def call(self, data, training=False):
        inputs = preprocess(data, self.reward_transform)
        posterior, _ = self.observe(inputs, sample=bool(training))
        features = self.rssm.features(posterior)
        return {
            "features": features,
            "image": self.decoder(features),
            "reward": self.reward_head(features),
            "discount": ops.sigmoid(self.discount_head(features)),
        }

    def video_prediction(self, data, context=5):
        """Open-loop prediction: observes `context` frames, imagines the rest from the actions.

        Args:
            data: a replay batch dict (see the class docstring).
            context: number of observed frames.

        Returns:
            `(truth, prediction)` as uint8 arrays of shape (batch, time, *obs_shape).
        """
        inputs = preprocess(data, self.reward_transform)
        observed = {k: v[:, :context] for k, v in inputs.items()}
        posterior, _ = self.observe(observed, sample=False)
        start = {k: v[:, -1] for k, v in posterior.items()}
        imagined = self.rssm.imagine(inputs["action"][:, context:], start, sample=False)
        features = ops.concatenate(
            [self.rssm.features(posterior), self.rssm.features(imagined)], axis=1
        )
        prediction = ops.clip(ops.cast(self.decoder(features), "float32") + 0.5, 0.0, 1.0)
        truth = ops.cast(data["image"], "uint8")
        return truth, ops.cast(ops.round(prediction * 255.0), "uint8")

    def get_config(self):
        return dict(
            super().get_config(),
            obs_shape=self.obs_shape,
            num_actions=self.num_actions,
            depth=self.depth,
            deter_size=self.deter_size,
            stoch_size=self.stoch_size,
            num_classes=self.num_classes,
            hidden_size=self.hidden_size,
            latent=self.latent,
            mlp_units=self.mlp_units,
            mlp_layers=self.mlp_layers,
            kl_scale=self.kl_scale,
            kl_balance=self.kl_balance,
            free_nats=self.free_nats,
            discount_scale=self.discount_scale,
            reward_transform=self.reward_transform,
            learning_rate=self.learning_rate,
            clip_grad=self.clip_grad,
            seed=self.seed,
        )
