import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_suite.testing import TestCase
from keras_suite.zoo import TransporterNet
from keras_suite.zoo.transporter.action_coding import labels_to_action, pixel_to_position
from keras_suite.zoo.transporter.training_data import training_dataset
from keras_suite.zoo.transporter.transporter_loss import pixel_rotation_cross_entropy
from keras_suite.zoo.transporter.transporter_net import argmax_pixels, normalize_image

sys.path.insert(0, os.path.dirname(__file__))
from synthetic_scenes import synthetic_scenes  # noqa: E402


def _numpy(x, dtype=None):
    """A NumPy copy of a tensor of any backend (a PyTorch output may require grad)."""
    return np.asarray(keras.ops.convert_to_numpy(x), dtype)


SMALL = (4, 4, 8, 8, 8, 4, 4, 4)


def _model(**kwargs):
    kwargs = dict(
        crop_size=8, num_rotations=4, attention_filters=SMALL, transport_filters=SMALL, **kwargs
    )
    return TransporterNet(**kwargs)


class TransporterNetTest(TestCase):
    def setUp(self):
        super().setUp()
        self.images, self.picks, self.places, self.bins = synthetic_scenes(4, shape=(24, 16))

    def test_forward_is_attention_then_transport(self):
        model = _model()
        outputs = model({"image": self.images, "pick_pixel": self.picks})
        x = normalize_image(self.images)
        self.assertAllClose(outputs["pick"], model.attention(x), atol=1e-6)
        self.assertAllClose(outputs["place"], model.transport(x, self.picks), atol=1e-5)
        # Without a pick pixel, the transport crops at the attention's argmax.
        free = model({"image": self.images})
        pick = _numpy(outputs["pick"])[..., 0].reshape(4, -1).argmax(1)
        argmax = np.stack([pick // 16, pick % 16], axis=-1)
        self.assertAllClose(free["place"], model.transport(x, argmax), atol=1e-5)

    def test_normalization_and_argmax_by_hand(self):
        image = np.array([[[[255.0, 0.0, 51.0, 0.02]]]])
        expected = [
            (1.0 - 0.18877631) / 0.07276466,
            (0.0 - 0.18877631) / 0.07276466,
            (0.2 - 0.18877631) / 0.07276466,
            (0.02 - 0.00509261) / 0.00903967,
        ]
        self.assertAllClose(normalize_image(image)[0, 0, 0], np.array(expected), atol=1e-4)
        logits = np.random.default_rng(0).normal(size=(3, 5, 7, 6)).astype("float32")
        pixels, bins = argmax_pixels(logits)
        for b in range(3):
            row, col, rot = np.unravel_index(logits[b].argmax(), logits[b].shape)
            self.assertAllEqual(pixels[b], np.array([row, col]))
            self.assertEqual(int(bins[b]), rot)

    def test_loss_is_the_sum_of_both_cross_entropies(self):
        model = _model()
        x = {"image": self.images, "pick_pixel": self.picks}
        y = {"pick_pixel": self.picks, "place_pixel": self.places, "rotation_bin": self.bins + 1}
        y_pred = model(x)
        loss = model.compute_loss(x, y, y_pred)
        expected = pixel_rotation_cross_entropy(
            y_pred["pick"], self.picks
        ) + pixel_rotation_cross_entropy(y_pred["place"], self.places, self.bins + 1)
        self.assertAllClose(loss, expected, atol=1e-5)

    def test_act_returns_the_best_pick_and_place_as_poses(self):
        model = _model()
        image = self.images[0]
        action = model.act({"image": image}, info=None)
        pick, place, rotation = model.predict_labels(image[None])
        expected = labels_to_action(pick[0], place[0], int(rotation[0]), image[..., 3], 4)
        self.assertAllClose(action["pose0"], expected["pose0"], atol=1e-9)
        self.assertAllClose(action["pose1"], expected["pose1"], atol=1e-9)
        outputs = model({"image": image[None]})
        best = _numpy(outputs["pick"])[0, ..., 0]
        row, col = np.unravel_index(best.argmax(), best.shape)
        self.assertAllClose(
            action["pose0"][0], pixel_to_position(np.array([row, col]), image[..., 3]), atol=1e-9
        )
        place_logits = _numpy(outputs["place"])[0]
        row, col, rot = np.unravel_index(place_logits.argmax(), place_logits.shape)
        self.assertAllEqual(place[0], np.array([row, col]))
        self.assertEqual(int(rotation[0]), rot)
        with pytest.raises(ValueError, match="`obs` must be a map \\(H, W, 4\\)"):
            model.act(image[..., :3])

    @pytest.mark.slow
    def test_keras_file_and_preset_round_trips(self):
        model = _model()
        x = {"image": self.images, "pick_pixel": self.picks}
        model(x)
        # A tuple holds the single dict argument (a bare dict would be keyword arguments).
        restored = self.run_model_saving_test(model, (x,), atol=1e-5)
        self.assertEqual(restored.get_config(), model.get_config())
        folder = os.path.join(self.get_temp_dir(), "preset")
        model.save_to_preset(folder, metadata={"task": "synthetic"})
        loaded = TransporterNet.from_preset(folder)
        self.assertAllClose(loaded(x), model(x), atol=1e-5)
        with open(os.path.join(folder, "metadata.json")) as f:
            self.assertEqual(json.load(f)["parameter_count"], model.count_params())

    def test_transport_downsampling_sets_the_transport_networks_alone(self):
        self.assertEqual(_model(downsampling=4).transport.downsampling, 4)
        model = _model(downsampling=8, transport_downsampling=4)
        self.assertEqual(model.attention.downsampling, 8)
        self.assertEqual(model.transport.downsampling, 4)
        x = {"image": self.images, "pick_pixel": self.picks}
        expected = model(x)["place"]
        restored = TransporterNet.from_config(model.get_config())
        self.assertEqual(restored.transport.downsampling, 4)
        restored(x)
        restored.set_weights(model.get_weights())
        self.assertAllClose(restored(x)["place"], expected, atol=1e-5)

    def test_test_time_turns_average_turned_probabilities(self):
        keras.utils.set_random_seed(0)
        model = _model(test_time_turns=4)
        # Noise maps: no two pixels tie, as they might in a flat background.
        rng = np.random.default_rng(0)
        images = np.concatenate(
            [rng.uniform(0, 255, (2, 24, 16, 3)), rng.uniform(0, 0.05, (2, 24, 16, 1))], axis=-1
        ).astype("float32")
        picks, places, bins = model.predict_labels(images)
        # By hand: the maps padded to 24 x 24 (4 zero columns each side) and turned by
        # np.rot90 k times; each copy's softmax turned back by -k; the mean's argmax. (All
        # copies in one batch, in the model's order, so that the logits are the same floats.)
        square = np.zeros((2, 24, 24, 4), "float32")
        square[:, :, 4:20] = images
        copies = np.concatenate([np.rot90(square, k, axes=(1, 2)) for k in range(4)])

        def softmax(logits):
            logits = _numpy(logits, "float64")
            e = np.exp(logits - logits.max(axis=(1, 2, 3), keepdims=True))
            return e / e.sum(axis=(1, 2, 3), keepdims=True)

        def mean_back(scores):
            back = [np.rot90(s, -k, axes=(1, 2)) for k, s in enumerate(np.split(scores, 4))]
            return np.mean(back, axis=0)[:, :, 4:20]

        pick = mean_back(softmax(model.pick_logits({"image": copies})))
        for b in range(2):
            row, col, _ = np.unravel_index(pick[b].argmax(), pick[b].shape)
            self.assertAllEqual(picks[b], np.array([row, col]))
        marked = np.zeros((2, 24, 24), "float32")
        marked[np.arange(2), picks[:, 0], picks[:, 1] + 4] = 1.0
        turned_picks = np.concatenate(
            [np.argwhere(np.rot90(marked, k, axes=(1, 2)))[:, 1:] for k in range(4)]
        )
        place = mean_back(softmax(model.place_logits({"image": copies}, turned_picks)))
        for b in range(2):
            row, col, rotation = np.unravel_index(place[b].argmax(), place[b].shape)
            self.assertAllEqual(places[b], np.array([row, col]))
            self.assertEqual(int(bins[b]), rotation)
        # The averaged model sees a map turned by 180 degrees as the same scene, turned.
        turned = model.predict_labels(images[:, ::-1, ::-1])
        self.assertAllEqual(turned[0], np.array([23, 15]) - picks)
        self.assertAllEqual(turned[1], np.array([23, 15]) - places)
        self.assertAllEqual(turned[2], bins)
        # Half turns (no padding) are as symmetric.
        halves = _model(test_time_turns=2)
        halves({"image": images})
        halves.set_weights(model.get_weights())
        picks, places, bins = halves.predict_labels(images)
        turned = halves.predict_labels(images[:, ::-1, ::-1])
        self.assertAllEqual(turned[0], np.array([23, 15]) - picks)
        self.assertAllEqual(turned[1], np.array([23, 15]) - places)
        self.assertAllEqual(turned[2], bins)
        # Unaffected: `call`, and the config round trip carries the setting.
        plain = _model()
        plain({"image": images})
        plain.set_weights(model.get_weights())
        self.assertAllClose(model({"image": images})["place"], plain({"image": images})["place"])
        self.assertEqual(TransporterNet.from_config(model.get_config()).test_time_turns, 4)
        with self.assertRaisesRegex(ValueError, "`test_time_turns` must be one of"):
            _model(test_time_turns=3)

    def test_subpixel_place_is_the_mean_pixel_around_the_argmax(self):
        keras.utils.set_random_seed(0)
        model = _model(subpixel_place=True)
        rng = np.random.default_rng(1)
        images = np.concatenate(
            [rng.uniform(0, 255, (2, 24, 16, 3)), rng.uniform(0, 0.05, (2, 24, 16, 1))], axis=-1
        ).astype("float32")
        picks, places, bins = model.predict_labels(images)
        outputs = model({"image": images})  # `call` is unaffected
        for b in range(2):
            pick = _numpy(outputs["pick"])[b, ..., 0]
            self.assertAllEqual(picks[b], np.array(np.unravel_index(pick.argmax(), pick.shape)))
            logits = _numpy(outputs["place"][b], "float64")
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
            row, col, rotation = np.unravel_index(logits.argmax(), logits.shape)
            self.assertEqual(int(bins[b]), rotation)
            window = [
                (r, c)
                for r in range(row - 1, row + 2)
                for c in range(col - 1, col + 2)
                if 0 <= r < 24 and 0 <= c < 16
            ]
            weights = np.array([probabilities[r, c, rotation] for r, c in window])
            expected = weights @ np.array(window, "float64") / weights.sum()
            self.assertAllClose(places[b], expected, atol=1e-6)
            self.assertFalse(np.allclose(expected, [row, col]))
        # `act` places there, at the height of the nearest pixel.
        action = model.act({"image": images[0]})
        expected = pixel_to_position(places[0], images[0, ..., 3])
        self.assertAllClose(action["pose1"][0], expected, atol=1e-9)
        self.assertTrue(TransporterNet.from_config(model.get_config()).subpixel_place)
        # With test-time turns, around the argmax of the averaged probabilities.
        turned = _model(test_time_turns=2, subpixel_place=True)
        turned({"image": images})
        turned.set_weights(model.get_weights())
        unrefined = _model(test_time_turns=2)
        unrefined({"image": images})
        unrefined.set_weights(model.get_weights())
        refined, argmaxes = turned.predict_labels(images), unrefined.predict_labels(images)
        self.assertAllEqual(refined[2], argmaxes[2])
        self.assertLessEqual(np.abs(refined[1] - argmaxes[1]).max(), 1.0)
        self.assertGreater(np.abs(refined[1] - argmaxes[1]).max(), 0.0)

    def test_bad_downsampling_is_rejected_by_name(self):
        with self.assertRaisesRegex(ValueError, "`downsampling` must be one of"):
            _model(downsampling=3)
        with self.assertRaisesRegex(ValueError, "transport_downsampling=16"):
            _model(downsampling=4, transport_downsampling=16)

    @pytest.mark.slow
    def test_fit_lowers_the_loss_on_synthetic_pick_and_place(self):
        keras.utils.set_random_seed(0)
        model = _model()
        # Eager plain SGD: tracing a graph of 300+ variables' updates takes a minute or more
        # on a busy CPU, longer than these few steps.
        model.compile(optimizer=keras.optimizers.SGD(0.01, clipnorm=1.0), run_eagerly=True)
        # The whole (unaugmented) set in each batch, so that the loss is that of one function.
        dataset = training_dataset(
            self.images, self.picks, self.places, self.bins, batch_size=4, augment=False
        )
        history = model.fit(dataset, steps_per_epoch=2, epochs=3, verbose=0)
        for name in ["loss", "pick_loss", "place_loss"]:
            self.assertTrue(np.all(np.isfinite(history.history[name])), history.history)
        self.assertLess(history.history["loss"][-1], history.history["loss"][0], history.history)
        # A `.keras` checkpoint comes back compiled, with the optimizer's state (resuming).
        path = os.path.join(self.get_temp_dir(), "checkpoint.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
        self.assertIsInstance(loaded.optimizer, keras.optimizers.SGD)
        self.assertEqual(int(loaded.optimizer.iterations), 6)
        for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
            self.assertAllClose(a, b)
        x, y = next(iter(dataset))
        self.assertAllClose(
            loaded.compute_loss(x, y, loaded(x)), model.compute_loss(x, y, model(x)), atol=1e-5
        )

    @pytest.mark.slow
    @pytest.mark.tensorflow_only  # TensorFlow's oneDNN kernels are what the test guards.
    def test_fit_with_four_channel_stages_on_80_by_40_maps_runs_to_the_end(self):
        # This configuration's strided 1x1 convolutions once corrupted the heap in TensorFlow's
        # oneDNN backprop kernels and killed Python; a child process turns a crash into a failure.
        code = f"""
import sys
import numpy as np
sys.path.insert(0, {os.path.dirname(__file__)!r})
from synthetic_scenes import synthetic_scenes
from keras_suite.zoo import TransporterNet
from keras_suite.zoo.transporter.training_data import training_dataset

images, picks, places, bins = synthetic_scenes(2, shape=(80, 40))
model = TransporterNet(crop_size=8, num_rotations=36, attention_filters=(4,) * 8,
                       transport_filters=(4,) * 8, downsampling=8)
model.compile()
dataset = training_dataset(images, picks, places, bins)
history = model.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0)
print(len(history.history["loss"]), np.isfinite(history.history["loss"]).all())
"""
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=600
        )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertEqual(result.stdout.split(), ["1", "True"])

    def test_compile_builds_the_model_and_the_optimizer_eagerly(self):
        model = _model()
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        self.assertTrue(model.built)
        self.assertTrue(model.optimizer.built)
        # Three ResNets of a stem and 8 projecting (4 convs) + 8 identity (3 convs) blocks.
        self.assertEqual(len(model.trainable_variables), 3 * (1 + 8 * 4 + 8 * 3) * 2)

    def test_compile_without_arguments_trains_as_the_recipe_does(self):
        model = _model()
        model.compile()
        self.assertIsInstance(model.optimizer, keras.optimizers.Adam)
        self.assertAllClose(float(model.optimizer.learning_rate), 2e-4)
        # The loss: softmax cross-entropy over every pick pixel plus over every place pixel x
        # rotation, computed here with numpy.
        x = {"image": self.images[:1], "pick_pixel": self.picks[:1]}
        y = {"pick_pixel": self.picks[:1], "place_pixel": self.places[:1]}
        y["rotation_bin"] = self.bins[:1]
        outputs = {k: _numpy(v, "float64") for k, v in model(x).items()}

        def cross_entropy(logits, index):
            flat = logits.reshape(-1)
            return np.log(np.sum(np.exp(flat - flat.max()))) + flat.max() - logits[index]

        (row, col), (place_row, place_col) = self.picks[0], self.places[0]
        expected = cross_entropy(outputs["pick"][0], (row, col, 0)) + cross_entropy(
            outputs["place"][0], (place_row, place_col, self.bins[0])
        )
        self.assertAllClose(model.compute_loss(x, y, model(x)), expected, rtol=1e-5)
        with pytest.raises(ValueError, match="computes its own loss"):
            model.compile(loss="mse")

    def test_bad_inputs_raise_clear_errors(self):
        model = _model()
        with pytest.raises(ValueError, match="takes a dict with `image`"):
            model(self.images)
        with pytest.raises(ValueError, match="`image` must have shape \\(batch, H, W, 4\\)"):
            model({"image": self.images[..., :3]})
        with pytest.raises(ValueError, match="`bounds` must be"):
            _model(bounds=((0, 1), (0, 1)))
