import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from keras_suite.testing import TestCase
from keras_suite.zoo import WorldModel

SMALL = dict(
    depth=2,
    deter_size=8,
    stoch_size=2,
    num_classes=3,
    hidden_size=8,
    mlp_units=8,
    mlp_layers=1,
    learning_rate=3e-3,
    seed=0,
)

# Tracing a graph costs TensorFlow more than these few steps; JAX runs them faster compiled.
EAGER = keras.config.backend() != "jax"


def _batch(batch=2, steps=6, seed=0):
    rng = np.random.default_rng(seed)
    is_first = np.zeros((batch, steps), "float32")
    is_first[:, 0] = 1
    is_terminal = np.zeros((batch, steps), "float32")
    is_terminal[:, -1] = 1
    return {
        # Bright frames with a little noise: a learnable signal far above the noise floor.
        "image": rng.integers(180, 220, (batch, steps, 64, 64, 1)).astype("uint8"),
        "action": np.eye(3, dtype="float32")[rng.integers(0, 3, (batch, steps))],
        "reward": rng.normal(size=(batch, steps)).astype("float32") * 3,
        "is_first": is_first,
        "is_terminal": is_terminal,
    }


class WorldModelTest(TestCase):
    def test_losses_match_reference(self):
        model = WorldModel(num_actions=3, **SMALL)
        data = _batch()
        loss, metrics, posterior = model.compute_losses(
            {k: ops.convert_to_tensor(v) for k, v in _preprocessed(data).items()}, sample=False
        )
        features = model.rssm.features(posterior)
        image = data["image"].astype("float32") / 255 - 0.5
        recon = ops.convert_to_numpy(model.decoder(features))
        expected_image = (0.5 * ((recon - image) ** 2).sum((-3, -2, -1))).mean()
        reward = ops.convert_to_numpy(model.reward_head(features))
        expected_reward = (0.5 * (reward - np.tanh(data["reward"])) ** 2).mean()
        logits = ops.convert_to_numpy(model.discount_head(features))
        target = 1 - data["is_terminal"]
        p = 1 / (1 + np.exp(-logits))
        expected_disc = -(target * np.log(p) + (1 - target) * np.log(1 - p)).mean()
        self.assertAllClose(metrics["image_loss"], expected_image, rtol=1e-4, atol=1e-3)
        self.assertAllClose(metrics["reward_loss"], expected_reward, rtol=1e-4, atol=1e-5)
        self.assertAllClose(metrics["discount_loss"], expected_disc, rtol=1e-4, atol=1e-5)
        total = expected_image + expected_reward + 5.0 * expected_disc + 0.1 * metrics["kl"]
        self.assertAllClose(ops.convert_to_numpy(loss), total, rtol=1e-4, atol=1e-3)

    def test_video_prediction_and_errors(self):
        model = WorldModel(num_actions=3, **SMALL)
        truth, prediction = model.video_prediction(_batch(), context=2)
        self.assertEqual(tuple(prediction.shape), (2, 6, 64, 64, 1))
        self.assertAllEqual(truth, _batch()["image"])
        with self.assertRaisesRegex(ValueError, "latent"):
            WorldModel(latent="beta")

    @pytest.mark.slow
    def test_fit_alone_with_gaussian_latents(self):
        keras.utils.set_random_seed(0)
        model = WorldModel(num_actions=3, latent="gaussian", **SMALL)
        model.compile(run_eagerly=EAGER)
        dataset = tf.data.Dataset.from_tensors(_batch()).repeat()
        history = model.fit(dataset, steps_per_epoch=2, epochs=3, verbose=0)
        self.assertLess(history.history["image_loss"][-1], history.history["image_loss"][0])


class VectorWorldModelTest(TestCase):
    def test_vector_and_mixed_losses_match_reference(self):
        rng = np.random.default_rng(4)
        data = _batch()
        data["vector"] = rng.normal(size=(2, 6, 5)).astype("float32")
        for obs_shape in ({"vector": (5,)}, {"image": (64, 64, 1), "vector": (5,)}):
            model = WorldModel(obs_shape=obs_shape, num_actions=3, **SMALL)
            self.assertEqual(model.encoder is None, "image" not in obs_shape)
            inputs = {k: ops.convert_to_tensor(v) for k, v in model.preprocess(data).items()}
            loss, metrics, posterior = model.compute_losses(inputs, sample=False)
            features = ops.convert_to_numpy(model.rssm.features(posterior))
            # The MLP encoder's embedding is the last of the concatenated embeddings.
            h = data["vector"]
            for layer in model.mlp_encoder.dense:
                z = h @ ops.convert_to_numpy(layer.kernel) + ops.convert_to_numpy(layer.bias)
                h = np.where(z > 0, z, np.expm1(z))
            embed = ops.convert_to_numpy(model.embed(inputs))
            self.assertAllClose(embed[..., -SMALL["mlp_units"] :], h, atol=1e-5)
            recon = ops.convert_to_numpy(model.mlp_decoder(features))
            expected = (0.5 * ((recon - data["vector"]) ** 2).sum(-1)).mean()
            self.assertAllClose(metrics["vector_loss"], expected, rtol=1e-4, atol=1e-5)
            self.assertEqual("image_loss" in metrics, "image" in obs_shape)
            others = metrics["reward_loss"] + 5.0 * metrics["discount_loss"] + 0.1 * metrics["kl"]
            total = expected + metrics.get("image_loss", 0.0) + others
            self.assertAllClose(ops.convert_to_numpy(loss), total, rtol=1e-4, atol=1e-4)
        outputs = model(data)
        self.assertEqual(tuple(outputs["vector"].shape), (2, 6, 5))
        self.assertEqual(tuple(outputs["image"].shape), (2, 6, 64, 64, 1))

    def test_vector_only_errors(self):
        model = WorldModel(obs_shape={"vector": (5,)}, num_actions=3, **SMALL)
        with self.assertRaisesRegex(ValueError, "needs image observations"):
            model.video_prediction(_batch())
        with self.assertRaisesRegex(ValueError, "obs_shape"):
            WorldModel(obs_shape={"vector": (5, 2)}, num_actions=3, **SMALL)
        with self.assertRaisesRegex(ValueError, "obs_shape"):
            WorldModel(obs_shape={"reward": (1,)}, num_actions=3, **SMALL)


def _grid_batch(batch=2, steps=6, channels=4, seed=0):
    """A MinAtar-like batch: 10x10 binary grids (uint8 0 or 1)."""
    data = _batch(batch, steps, seed)
    rng = np.random.default_rng(seed + 1)
    data["image"] = (rng.random((batch, steps, 10, 10, channels)) < 0.2).astype("uint8")
    return data


def _elu_mlp(x, dense_layers):
    for layer in dense_layers:
        z = x @ ops.convert_to_numpy(layer.kernel) + ops.convert_to_numpy(layer.bias)
        x = np.where(z > 0, z, np.expm1(z))
    return x


class GridWorldModelTest(TestCase):
    def test_bernoulli_grid_losses_match_reference(self):
        model = WorldModel(obs_shape=(10, 10, 4), num_actions=3, image_dist="bernoulli", **SMALL)
        self.assertFalse(model.conv)
        data = _grid_batch()
        inputs = {k: ops.convert_to_tensor(v) for k, v in model.preprocess(data).items()}
        # Binary cells reach the encoder as they are: 0 or 1, flattened per step.
        self.assertAllClose(inputs["image"], data["image"].astype("float32"))
        embed = ops.convert_to_numpy(model.embed(inputs))
        flat = data["image"].reshape(2, 6, 400).astype("float32")
        self.assertAllClose(embed, _elu_mlp(flat, model.encoder.dense), atol=1e-5)
        loss, metrics, posterior = model.compute_losses(inputs, sample=False)
        features = ops.convert_to_numpy(model.rssm.features(posterior))
        hidden = _elu_mlp(features, model.decoder.hidden)
        logits = hidden @ ops.convert_to_numpy(model.decoder.out.kernel)
        logits = (logits + ops.convert_to_numpy(model.decoder.out.bias)).reshape(2, 6, 10, 10, 4)
        target = data["image"].astype("float64")
        # Binary cross-entropy of Bernoulli logits, summed over cells and channels.
        nll = np.logaddexp(0, logits) - target * logits
        expected = nll.sum((-3, -2, -1)).mean()
        self.assertAllClose(metrics["image_loss"], expected, rtol=1e-4, atol=1e-3)
        others = metrics["reward_loss"] + 5.0 * metrics["discount_loss"] + 0.1 * metrics["kl"]
        self.assertAllClose(ops.convert_to_numpy(loss), expected + others, rtol=1e-4, atol=1e-3)
        self.assertEqual(tuple(model(data)["image"].shape), (2, 6, 10, 10, 4))
        truth, prediction = model.video_prediction(data, context=2)
        self.assertAllEqual(truth, data["image"] * 255)
        self.assertEqual(tuple(prediction.shape), (2, 6, 10, 10, 4))

    def test_grid_errors_and_config(self):
        with self.assertRaisesRegex(ValueError, "image_dist"):
            WorldModel(obs_shape=(10, 10, 4), image_dist="poisson", **SMALL)
        with self.assertRaisesRegex(ValueError, "height and width"):
            WorldModel(obs_shape={"a": (10, 10, 4), "b": (8, 8, 1)}, **SMALL)
        model = WorldModel(obs_shape=(10, 10, 4), num_actions=3, image_dist="bernoulli", **SMALL)
        restored = WorldModel.from_config(model.get_config())
        self.assertEqual((restored.image_dist, restored.image_shape), ("bernoulli", (10, 10, 4)))


def _preprocessed(data):
    from keras_suite.zoo.dreamer.world_model import preprocess

    return preprocess(data)
