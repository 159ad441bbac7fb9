import os
import sys

import numpy as np
import pytest

from keras_suite.testing import TestCase
from keras_suite.zoo.transporter.training_data import training_dataset

sys.path.insert(0, os.path.dirname(__file__))
from synthetic_scenes import synthetic_scenes  # noqa: E402

# A tf.data pipeline whose augmentation runs on TensorFlow.
pytestmark = pytest.mark.tensorflow_only


class TrainingDatasetTest(TestCase):
    def test_examples_without_augmentation_are_the_demos(self):
        images, picks, places, bins = synthetic_scenes(3, shape=(24, 16))
        bins = np.array([0, 5, 2])
        dataset = training_dataset(images, picks, places, bins, batch_size=3, augment=False)
        x, y = next(iter(dataset))
        order = [int(np.where((picks == p).all(1))[0][0]) for p in y["pick_pixel"].numpy()]
        self.assertAllEqual(np.sort(order), np.arange(3))
        self.assertAllEqual(x["image"], images[order])
        self.assertAllEqual(x["pick_pixel"], picks[order])
        self.assertAllEqual(y["place_pixel"], places[order])
        self.assertAllEqual(y["rotation_bin"], bins[order])

    def test_augmented_labels_still_point_at_the_block_and_target(self):
        images, picks, places, bins = synthetic_scenes(4, shape=(40, 24))
        dataset = training_dataset(images, picks, places, bins, batch_size=4, seed=3)
        for x, y in dataset.take(3):
            for image, pick, place in zip(x["image"].numpy(), y["pick_pixel"], y["place_pixel"]):
                self.assertAllClose(image[pick[0], pick[1]], np.array([220, 30, 30, 0.02]))
                self.assertAllClose(image[place[0], place[1], :3], np.array([30, 200, 30]))
            self.assertAllEqual(y["rotation_bin"], np.zeros(4))

    def test_goals_take_the_same_random_transform_as_their_maps(self):
        images, picks, places, bins = synthetic_scenes(4, shape=(40, 24))
        goals = 2.0 * images + 1.0  # every goal pixel >= 1 inside the map
        dataset = training_dataset(images, picks, places, bins, batch_size=4, goal_images=goals)
        plain = training_dataset(images, picks, places, bins, batch_size=4)
        for (x, _), (x_plain, _) in zip(dataset.take(2), plain.take(2)):
            self.assertAllEqual(x["image"], x_plain["image"])
            image, goal = x["image"].numpy(), x["goal"].numpy()
            # The same transform: where the map moved to, the goal did too; elsewhere (outside
            # the original map) both read zero.
            inside = np.all(goal >= 1.0, axis=-1)
            self.assertGreater(inside.mean(), 0.3)
            self.assertAllClose(goal[inside], 2.0 * image[inside] + 1.0)
            self.assertAllEqual(goal[~inside], np.zeros_like(goal[~inside]))
            self.assertAllEqual(image[~inside], np.zeros_like(image[~inside]))
        with pytest.raises(ValueError, match="`goal_images` must have the shape of `images`"):
            training_dataset(images, picks, places, bins, goal_images=goals[:, :20])

    def test_mismatched_inputs_raise_a_clear_error(self):
        images, picks, places, bins = synthetic_scenes(2, shape=(24, 16))
        with pytest.raises(ValueError, match="one pick pixel, place pixel and rotation bin"):
            training_dataset(images, picks[:1], places, bins)
