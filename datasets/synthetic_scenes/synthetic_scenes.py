"""The `synthetic_scenes` TFDS builder: procedural indoor-like scenes, generated locally."""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds
from etils import epath

from keras_suite.datasets.synthetic_scenes.scene_generator import (
    CLASS_NAMES,
    TEST_SEED_OFFSET,
    generate_scene,
    scene_example,
)


@dataclasses.dataclass
class SyntheticScenesConfig(tfds.core.BuilderConfig):
    """Size of a `synthetic_scenes` variant.

    Args:
        num_train: number of training scenes (seeds 0, 1, ...).
        num_test: number of test scenes (seeds 1000000, 1000001, ...).
        num_points: points per scene.
        max_objects: the most objects per scene.
    """

    num_train: int = 64
    num_test: int = 16
    num_points: int = 20000
    max_objects: int = 6


class SyntheticScenes(tfds.core.GeneratorBasedBuilder):
    """Indoor-like 3D scenes generated from a seed: no download, fully deterministic.

    Every scene is a room with a floor, two to four walls, and two to six furniture-like objects
    (boxes, cylinders, L-shapes) at random positions and yaw angles, sampled as a coloured point
    cloud with per-point semantic labels (`floor`, `wall`, `box`, `cylinder`, `l_shape`),
    per-point instance labels (0 for floor and walls) and the objects' oriented 3D boxes. Scene
    `i` of the train split uses seed `i` and of the test split seed `1000000 + i`, so the same
    config always gives the same data. Pick a size with a built-in config (`tiny`, `small`) or
    pass a `SyntheticScenesConfig`.
    """

    # The package is installed as `keras_suite.datasets` from the `datasets/` folder, so TFDS
    # cannot derive this folder from the module name.
    code_path = epath.Path(__file__)
    pkg_dir_path = epath.Path(__file__).parent
    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        SyntheticScenesConfig(
            name="small", description="64 train, 16 test scenes of 20000 points."
        ),
        SyntheticScenesConfig(
            name="tiny",
            description="4 train, 2 test scenes of 2000 points (for tests).",
            num_train=4,
            num_test=2,
            num_points=2000,
        ),
    ]

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "scene_id": np.int64,
                    "points": tfds.features.Tensor(shape=(None, 3), dtype=np.float32),
                    "colors": tfds.features.Tensor(shape=(None, 3), dtype=np.float32),
                    "semantic_labels": tfds.features.Tensor(shape=(None,), dtype=np.int32),
                    "instance_labels": tfds.features.Tensor(shape=(None,), dtype=np.int32),
                    "objects": tfds.features.Sequence(
                        {
                            "center": tfds.features.Tensor(shape=(3,), dtype=np.float32),
                            "size": tfds.features.Tensor(shape=(3,), dtype=np.float32),
                            "rotation": np.float32,
                            "label": tfds.features.ClassLabel(names=CLASS_NAMES),
                        }
                    ),
                }
            ),
            homepage="https://github.com/google-research/google-research/tree/master/tf3d",
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        return {
            "train": self._generate_examples(0, self.builder_config.num_train),
            "test": self._generate_examples(TEST_SEED_OFFSET, self.builder_config.num_test),
        }

    def _generate_examples(self, seed_offset, count):
        config = self.builder_config
        for index in range(count):
            seed = seed_offset + index
            scene = generate_scene(seed, config.num_points, config.max_objects)
            yield seed, scene_example(seed, scene)
