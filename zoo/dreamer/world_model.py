"""DreamerV2's world model: encoder, RSSM, image decoder, reward and discount heads."""

import keras
import numpy as np
from keras import ops

from keras_suite.layers import (
    CategoricalRSSM,
    ConvDecoder,
    ConvEncoder,
    GaussianRSSM,
    MLPEncoder,
    MLPHead,
)
from keras_suite.zoo.dreamer import backend

IMAGE_DISTS = ("gaussian", "bernoulli")


def scale_images(images, image_dist="gaussian"):
    """Images as the encoder sees them: uint8 pixels scaled to [-0.5, 0.5] (`"gaussian"`), or
    binary cells (0 or 1) as float32 (`"bernoulli"`)."""
    images = ops.cast(images, "float32")
    return images / 255.0 - 0.5 if image_dist == "gaussian" else images


def preprocess(
    data, reward_transform="tanh", image_keys=("image",), vector_keys=(), image_dist="gaussian"
):
    """Turns a replay batch into model inputs: images through `scale_images`, vectors as
    float32, transformed rewards, float `is_first`, and the discount target `1 - is_terminal`."""
    if reward_transform not in ("tanh", "identity"):
        raise ValueError(
            '`reward_transform` must be "tanh" or "identity". '
            f"Received: reward_transform={reward_transform!r}"
        )
    if image_dist not in IMAGE_DISTS:
        raise ValueError(
            f"`image_dist` must be one of {list(IMAGE_DISTS)}. Received: image_dist={image_dist!r}"
        )
    reward = ops.cast(data["reward"], "float32")
    inputs = {
        "action": ops.cast(data["action"], "float32"),
        "reward": ops.tanh(reward) if reward_transform == "tanh" else reward,
        "is_first": ops.cast(data["is_first"], "float32"),
        "discount": 1.0 - ops.cast(data["is_terminal"], "float32"),
    }
    for key in image_keys:
        inputs[key] = scale_images(data[key], image_dist)
    for key in vector_keys:
        inputs[key] = ops.cast(data[key], "float32")
    return inputs


def observation_shapes(obs_shape):
    """`obs_shape` as a dict from observation key to shape: a bare shape is the `image` key.

    Rank-3 shapes are images (height, width, channels), all of the same height and width;
    rank-1 shapes are vectors.
    """
    if isinstance(obs_shape, dict):
        shapes = {str(k): tuple(int(d) for d in v) for k, v in obs_shape.items()}
    else:
        shapes = {"image": tuple(obs_shape)}
    for key, shape in shapes.items():
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise ValueError(
                "`obs_shape` must map each observation key to an image shape (height, width, "
                f"channels) or a vector shape (size,). Received: obs_shape={obs_shape} "
                f"(key {key!r})"
            )
    if len({v[:2] for v in shapes.values() if len(v) == 3}) > 1:
        raise ValueError(
            "`obs_shape`'s images must share their height and width (they are stacked along "
            f"channels). Received: obs_shape={obs_shape}"
        )
    if not shapes or any(k in ("action", "reward", "is_first", "is_terminal") for k in shapes):
        raise ValueError(
            "`obs_shape` needs at least one observation key, none of them named action, "
            f"reward, is_first or is_terminal. Received: obs_shape={obs_shape}"
        )
    return shapes


@keras.saving.register_keras_serializable(package="keras_suite")
class WorldModel(keras.Model):
    """The DreamerV2 world model, trainable on its own with `model.fit`.

    Encodes 64x64 images with `ConvEncoder` and vector observations with `MLPEncoder` (as
    DreamerV2 does for image and vector keys), filters the concatenated embeddings with a
    `CategoricalRSSM` (or a `GaussianRSSM`), and reconstructs the observations (`ConvDecoder` for
    images, an `MLPHead` for vectors; unit-variance Gaussians, i.e. summed squared errors),
    rewards (MSE) and episode continuation (Bernoulli) from the model features. The loss is
    `image + vector + reward + discount_scale * discount + kl_scale * KL`, the KL balanced as in
    `keras_suite.losses.kl_balancing` (Hafner et al., 2021).

    Images of any other size, such as MinAtar's 10x10 grids of binary channels, are flattened
    through an `MLPEncoder` and decoded by an `MLPHead` with one output per cell and channel
    (`mlp_units` wide, `mlp_layers` deep). With `image_dist="bernoulli"` the images are binary
    (uint8 0 or 1): the encoder sees them as they are and the decoder's outputs are Bernoulli
    logits, trained by the binary cross-entropy summed over cells and channels, as
    kenjyoung/dreamerv2_JAX models MinAtar observations.

    Args:
        obs_shape: the image shape (height, width, channels) of the `image` key, or a dict
            from observation key to shape: (height, width, channels) for images (several are
            stacked along channels; 64x64 goes through the conv encoder) and (size,) for vectors
            (several are concatenated), e.g. `{"vector": (4,)}` for CartPole's state.
        num_actions: size of the action vectors.
        depth, deter_size, stoch_size, num_classes, hidden_size: encoder/decoder depth and RSSM
            sizes.
        latent: "categorical" or "gaussian" (the paper's ablation).
        mlp_units, mlp_layers: reward and discount heads.
        kl_scale, kl_balance, free_nats, discount_scale: loss weights.
        reward_transform: "tanh" (Atari) or "identity".
        learning_rate, clip_grad: Adam settings used by `compile()` without an optimizer.
        image_dist: "gaussian" (uint8 pixels, squared errors) or "bernoulli" (binary cells,
            cross-entropy).
        seed: seed of the latent sampling.
        **kwargs: base model arguments (`name`).

    Call arguments:
        data: a dict with the observation keys (images uint8 (batch, time, height, width,
            channels), vectors float (batch, time, size)), `action` (batch, time, num_actions;
            the action that led to each frame), `reward`, `is_first` and `is_terminal` (batch,
            time).

    Returns:
        A dict with `features`, the reconstruction of every observation key (images in
        [-0.5, 0.5], or Bernoulli logits), `reward`, and `discount` (the continuation
        probability); the latents take their most likely class unless `training`.

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
        image_dist="gaussian",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        shapes = observation_shapes(obs_shape)
        obs_shape = shapes if isinstance(obs_shape, dict) else shapes["image"]
        if latent not in ("categorical", "gaussian"):
            raise ValueError(
                f'`latent` must be "categorical" or "gaussian". Received: latent={latent!r}'
            )
        if image_dist not in IMAGE_DISTS:
            raise ValueError(
                f"`image_dist` must be one of {list(IMAGE_DISTS)}. "
                f"Received: image_dist={image_dist!r}"
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
        self.image_dist = image_dist
        self.seed = seed
        self.obs_shapes = shapes
        self.image_keys = tuple(sorted(k for k, v in shapes.items() if len(v) == 3))
        self.vector_keys = tuple(sorted(k for k, v in shapes.items() if len(v) == 1))
        channels = sum(shapes[k][-1] for k in self.image_keys)
        # (height, width, channels) of the stacked image keys.
        self.image_shape = shapes[self.image_keys[0]][:2] + (channels,) if self.image_keys else None
        self.vector_size = sum(shapes[k][0] for k in self.vector_keys)
        self.conv = self.image_shape is not None and self.image_shape[:2] == (64, 64)
        self.encoder = self.decoder = None
        if self.conv:
            self.encoder = ConvEncoder(depth, name="encoder")
            self.decoder = ConvDecoder(channels, depth, name="decoder")
        elif self.image_keys:
            cells = int(np.prod(self.image_shape))
            self.encoder = MLPEncoder(mlp_units, mlp_layers, name="encoder")
            self.decoder = MLPHead(cells, mlp_units, mlp_layers, name="decoder")
        self.mlp_encoder = None
        if self.vector_keys:
            self.mlp_encoder = MLPEncoder(mlp_units, mlp_layers, name="mlp_encoder")
        if latent == "categorical":
            self.rssm = CategoricalRSSM(
                deter_size, stoch_size, num_classes, hidden_size, seed=seed, name="rssm"
            )
        else:
            self.rssm = GaussianRSSM(deter_size, stoch_size, hidden_size, seed=seed, name="rssm")
        self.mlp_decoder = None
        if self.vector_keys:
            self.mlp_decoder = MLPHead(self.vector_size, mlp_units, mlp_layers, name="mlp_decoder")
        self.reward_head = MLPHead(None, mlp_units, mlp_layers, name="reward_head")
        self.discount_head = MLPHead(None, mlp_units, mlp_layers, name="discount_head")
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        embed_dim = 0
        if self.encoder is not None:
            image_shape = (None,) + (self.image_shape if self.conv else (self.decoder.output_size,))
            self.encoder.build(image_shape)
            embed_dim += self.encoder.compute_output_shape(image_shape)[-1]
        if self.mlp_encoder is not None:
            self.mlp_encoder.build((None, self.vector_size))
            embed_dim += self.mlp_encoder.units
        self.rssm.build((None, None, embed_dim), (None, None, self.num_actions))
        feature_shape = (None, self.rssm.feature_size)
        for layer in (self.decoder, self.mlp_decoder, self.reward_head, self.discount_head):
            if layer is not None:
                layer.build(feature_shape)
        self.built = True

    def compile(self, optimizer=None, **kwargs):
        optimizer = optimizer or keras.optimizers.Adam(
            self.learning_rate, epsilon=1e-5, global_clipnorm=self.clip_grad
        )
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.trainable_variables)

    @property
    def obs_keys(self):
        """The observation keys: image keys, then vector keys."""
        return self.image_keys + self.vector_keys

    def preprocess(self, data):
        """`preprocess` with this model's observation keys, reward transform and image
        distribution."""
        return preprocess(
            data, self.reward_transform, self.image_keys, self.vector_keys, self.image_dist
        )

    def embed(self, inputs):
        """Embeds the preprocessed observations in `inputs` (any leading axes): the image keys
        stacked along channels through the image encoder (flattened first unless 64x64), the
        vector keys concatenated through the MLP encoder, the two embeddings concatenated."""
        parts = []
        if self.image_keys:
            images = _concat([inputs[k] for k in self.image_keys])
            if not self.conv:
                images = ops.reshape(images, tuple(ops.shape(images)[:-3]) + (-1,))
            parts.append(self.encoder(images))
        if self.vector_keys:
            parts.append(self.mlp_encoder(_concat([inputs[k] for k in self.vector_keys])))
        return _concat(parts)

    def decode_images(self, features):
        """The decoder's output for the stacked image keys, (..., height, width, channels):
        images in [-0.5, 0.5] (`"gaussian"`) or Bernoulli logits (`"bernoulli"`)."""
        decoded = self.decoder(features)
        if self.conv:
            return decoded
        return ops.reshape(decoded, tuple(ops.shape(decoded)[:-1]) + self.image_shape)

    def decode(self, features):
        """The reconstruction of every observation key from model `features`."""
        outputs = {}
        for keys, decoder in (
            (self.image_keys, self.decode_images),
            (self.vector_keys, self.mlp_decoder),
        ):
            if not keys:
                continue
            decoded = decoder(features)
            start = 0
            for key in keys:
                size = self.obs_shapes[key][-1]
                outputs[key] = decoded[..., start : start + size]
                start += size
        return outputs

    def observe(self, inputs, sample=True):
        """Posterior and prior states of preprocessed `inputs` (see `preprocess`)."""
        embed = self.embed(inputs)
        return self.rssm.observe(embed, inputs["action"], inputs["is_first"], sample=sample)

    def compute_losses(self, inputs, sample=True):
        """The world-model losses of preprocessed `inputs`; returns (loss, metrics, posterior)."""
        posterior, prior = self.observe(inputs, sample)
        features = self.rssm.features(posterior)
        obs_loss, metrics = 0.0, {}
        if self.image_keys:
            target = _concat([inputs[k] for k in self.image_keys])
            decoded = ops.cast(self.decode_images(features), "float32")
            if self.image_dist == "bernoulli":
                cells = ops.binary_crossentropy(target, decoded, from_logits=True)
            else:
                cells = 0.5 * (decoded - target) ** 2
            metrics["image_loss"] = ops.mean(ops.sum(cells, axis=(-3, -2, -1)))
            obs_loss = obs_loss + metrics["image_loss"]
        if self.vector_keys:
            target = _concat([inputs[k] for k in self.vector_keys])
            error = ops.cast(self.mlp_decoder(features), "float32") - target
            metrics["vector_loss"] = ops.mean(0.5 * ops.sum(error**2, axis=-1))
            obs_loss = obs_loss + metrics["vector_loss"]
        reward = ops.cast(self.reward_head(features), "float32")
        reward_loss = ops.mean(0.5 * (reward - inputs["reward"]) ** 2)
        logits = ops.cast(self.discount_head(features), "float32")
        discount_loss = ops.mean(
            ops.binary_crossentropy(inputs["discount"], logits, from_logits=True)
        )
        kl = self.rssm.kl_loss(posterior, prior, self.kl_balance, self.free_nats)
        loss = obs_loss + reward_loss + self.discount_scale * discount_loss + self.kl_scale * kl
        metrics = dict(
            metrics, model_loss=loss, reward_loss=reward_loss, discount_loss=discount_loss, kl=kl
        )
        return loss, metrics, posterior

    def train_step(self, *args):
        # One update per backend (`keras_suite.zoo.dreamer.backend`).
        return backend.world_model_train_step(self, *args)

    def test_step(self, data):
        loss, metrics, _ = self.compute_losses(self.preprocess(data))
        return dict(metrics, loss=loss)

    def call(self, data, training=False):
        inputs = self.preprocess(data)
        posterior, _ = self.observe(inputs, sample=bool(training))
        features = self.rssm.features(posterior)
        return dict(
            self.decode(features),
            features=features,
            reward=self.reward_head(features),
            discount=ops.sigmoid(self.discount_head(features)),
        )

    def video_prediction(self, data, context=5):
        """Open-loop prediction: observes `context` frames, imagines the rest from the actions.

        Args:
            data: a replay batch dict (see the class docstring).
            context: number of observed frames.

        Returns:
            `(truth, prediction)` as uint8 arrays of shape (batch, time, height, width,
            channels), the image keys stacked along channels; binary images are shown as 0 and
            255, their prediction as 255 times the cells' probabilities.
        """
        if not self.image_keys:
            raise ValueError(
                "`video_prediction` needs image observations, but this model has only vector "
                f"ones. Received: obs_shape={self.obs_shape}"
            )
        inputs = self.preprocess(data)
        observed = {k: v[:, :context] for k, v in inputs.items()}
        posterior, _ = self.observe(observed, sample=False)
        start = {k: v[:, -1] for k, v in posterior.items()}
        imagined = self.rssm.imagine(inputs["action"][:, context:], start, sample=False)
        features = ops.concatenate(
            [self.rssm.features(posterior), self.rssm.features(imagined)], axis=1
        )
        decoded = ops.cast(self.decode_images(features), "float32")
        truth = _concat([data[k] for k in self.image_keys])
        if self.image_dist == "bernoulli":
            prediction = ops.sigmoid(decoded)
            truth = ops.cast(truth, "uint8") * 255
        else:
            prediction = ops.clip(decoded + 0.5, 0.0, 1.0)
        return ops.cast(truth, "uint8"), ops.cast(ops.round(prediction * 255.0), "uint8")

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
            image_dist=self.image_dist,
            seed=self.seed,
        )


def _concat(tensors):
    return tensors[0] if len(tensors) == 1 else ops.concatenate(tensors, axis=-1)
