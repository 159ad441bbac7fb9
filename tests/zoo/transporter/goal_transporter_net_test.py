import os
import sys

import keras
import numpy as np
import pytest

from keras_suite.testing import TestCase
from keras_suite.zoo import GoalTransporterNet
from keras_suite.zoo.transporter.action_coding import labels_to_action
from keras_suite.zoo.transporter.training_data import training_dataset
from keras_suite.zoo.transporter.transporter_net import normalize_image

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
    return GoalTransporterNet(**kwargs)


def _goals(images, picks, places):
    """Each scene finished: the block moved from its pick pixel onto the target."""
    goals = images.copy()
    for goal, image, (pr, pc), (qr, qc) in zip(goals, images, picks, places):
        goal[pr - 2 : pr + 3, pc - 2 : pc + 3] = (40.0, 40.0, 40.0, 0.0)
        goal[qr - 2 : qr + 3, qc - 2 : qc + 3] = image[pr, pc]
    return goals


class GoalTransporterNetTest(TestCase):
    def setUp(self):
        super().setUp()
        self.images, self.picks, self.places, self.bins = synthetic_scenes(4, shape=(24, 16))
        self.goals = _goals(self.images, self.picks, self.places)

    def test_attention_sees_the_goal_stacked_and_the_transport_is_gated_by_it(self):
        model = _model()
        x = {"image": self.images, "goal": self.goals, "pick_pixel": self.picks}
        outputs = model(x)
        image, goal = normalize_image(self.images), normalize_image(self.goals)
        stacked = np.concatenate([image, goal], axis=-1)
        self.assertAllClose(outputs["pick"], model.attention(stacked), atol=1e-6)
        self.assertAllClose(outputs["place"], model.transport(image, self.picks, goal), atol=1e-5)
        other = model({**x, "goal": self.goals[::-1]})
        self.assertGreater(np.abs(_numpy(other["pick"]) - _numpy(outputs["pick"])).max(), 0)

    def test_act_needs_a_goal_and_returns_the_best_action(self):
        model = _model()
        image, goal = self.images[0], self.goals[0]
        action = model.act({"image": image}, goal={"image": goal})
        outputs = model({"image": image[None], "goal": goal[None]})
        pick_logits = _numpy(outputs["pick"])[0, ..., 0]
        pick = np.array(np.unravel_index(pick_logits.argmax(), pick_logits.shape))
        place_logits = _numpy(
            model({"image": image[None], "goal": goal[None], "pick_pixel": pick[None]})["place"]
        )[0]
        row, col, rot = np.unravel_index(place_logits.argmax(), place_logits.shape)
        expected = labels_to_action(pick, np.array([row, col]), int(rot), image[..., 3], 4)
        self.assertAllClose(action["pose0"], expected["pose0"], atol=1e-9)
        self.assertAllClose(action["pose1"], expected["pose1"], atol=1e-9)
        with pytest.raises(ValueError, match="`goal` is required"):
            model.act({"image": image})

    def test_compile_without_arguments_uses_the_recipes_optimizer(self):
        model = _model()
        model.compile()
        self.assertIsInstance(model.optimizer, keras.optimizers.Adam)
        self.assertAllClose(float(model.optimizer.learning_rate), 2e-4)
        self.assertTrue(model.built and model.optimizer.built)

    @pytest.mark.slow
    def test_fit_and_round_trips(self):
        keras.utils.set_random_seed(0)
        model = _model()
        # Adam, eagerly: the goal gating makes the first gradients tiny for plain SGD.
        model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
        dataset = training_dataset(
            self.images,
            self.picks,
            self.places,
            self.bins,
            batch_size=4,
            augment=False,
            goal_images=self.goals,
        )
        history = model.fit(dataset, steps_per_epoch=1, epochs=3, verbose=0)
        self.assertLess(history.history["loss"][-1], history.history["loss"][0], history.history)
        x = {"image": self.images, "goal": self.goals, "pick_pixel": self.picks}
        restored = self.run_model_saving_test(model, (x,), atol=1e-5)
        self.assertIsInstance(restored, GoalTransporterNet)
        folder = os.path.join(self.get_temp_dir(), "preset")
        model.save_to_preset(folder, metadata={"task": "synthetic"})
        loaded = GoalTransporterNet.from_preset(folder)
        self.assertAllClose(loaded(x), model(x), atol=1e-5)

    def test_bad_inputs_raise_clear_errors(self):
        model = _model()
        with pytest.raises(ValueError, match="takes a dict with `image` and `goal`"):
            model({"image": self.images})
        with pytest.raises(ValueError, match="`goal` must have shape \\(batch, H, W, 4\\)"):
            model({"image": self.images, "goal": self.goals[..., :3]})
        with pytest.raises(ValueError, match="`goal` must be a map of the same size as `image`"):
            model({"image": self.images, "goal": self.goals[:, :20]})
