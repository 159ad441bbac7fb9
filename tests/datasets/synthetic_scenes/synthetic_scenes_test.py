import numpy as np
import tensorflow_datasets as tfds

from keras_suite.datasets.synthetic_scenes import SyntheticScenes, generate_scene
from keras_suite.datasets.synthetic_scenes.scene_generator import OBJECT_CLASSES, WALL_HEIGHT
from keras_suite.testing import TestCase


def inside_box(points, center, size, yaw):
    c, s = np.cos(-yaw), np.sin(-yaw)
    local = points - center
    local = np.stack(
        [c * local[:, 0] - s * local[:, 1], s * local[:, 0] + c * local[:, 1], local[:, 2]], -1
    )
    return np.all(np.abs(local) <= size / 2 + 0.03, axis=-1)


class GenerateSceneTest(TestCase):
    def test_deterministic_and_labels_consistent_with_boxes(self):
        first, again, other = generate_scene(7, 3000), generate_scene(7, 3000), generate_scene(8)
        for key in first:
            np.testing.assert_array_equal(first[key], again[key])
        self.assertFalse(np.array_equal(first["points"][:10], other["points"][:10]))
        points, instances = first["points"], first["instance_labels"]
        self.assertEqual(points.shape, (3000, 3))
        self.assertGreaterEqual(len(first["box_classes"]), 2)
        floor = first["semantic_labels"] == 0
        self.assertLess(np.abs(points[floor, 2]).max(), 0.03)
        self.assertLess(points[:, 2].max(), WALL_HEIGHT + 0.03)
        for k, (center, size, yaw, label) in enumerate(
            zip(
                first["box_centers"],
                first["box_sizes"],
                first["box_rotations"],
                first["box_classes"],
            )
        ):
            self.assertIn(label, OBJECT_CLASSES)
            mine = instances == k + 1
            self.assertTrue(np.all(first["semantic_labels"][mine] == label))
            # Every point of the instance lies in its oriented box, and the box is tight.
            self.assertTrue(np.all(inside_box(points[mine], center, size, yaw)))
            self.assertAllClose(points[mine, 2].max(), size[2], atol=0.03)


class SyntheticScenesBuilderTest(TestCase):
    def test_tiny_config_builds_and_matches_generator(self):
        builder = SyntheticScenes(config="tiny", data_dir=self.get_temp_dir())
        builder.download_and_prepare()
        self.assertEqual(builder.info.splits["train"].num_examples, 4)
        self.assertEqual(builder.info.splits["test"].num_examples, 2)
        examples = list(tfds.as_numpy(builder.as_dataset(split="test")))
        by_id = {int(e["scene_id"]): e for e in examples}
        self.assertEqual(sorted(by_id), [1_000_000, 1_000_001])
        scene = generate_scene(1_000_001, 2000)
        example = by_id[1_000_001]
        np.testing.assert_array_equal(example["points"], scene["points"])
        np.testing.assert_array_equal(example["semantic_labels"], scene["semantic_labels"])
        np.testing.assert_array_equal(example["objects"]["label"], scene["box_classes"])
        np.testing.assert_allclose(example["objects"]["size"], scene["box_sizes"])
