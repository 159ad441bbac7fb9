"""Tests of the `ravens` builder on episodes written in the collector's format."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_suite.datasets.ravens import Ravens
from keras_suite.envs.ravens import demonstrations
from keras_suite.testing import manual_download_test_case


def _episode(steps, seed):
    rng = np.random.default_rng(seed)
    return {
        "colormap": rng.integers(0, 255, (steps + 1, 320, 160, 3), dtype=np.uint8),
        "heightmap": rng.random((steps + 1, 320, 160), dtype=np.float32) * 0.1,
        "pick_pixel": rng.integers(0, 160, (steps, 2)).astype(np.int32),
        "place_pixel": rng.integers(0, 160, (steps, 2)).astype(np.int32),
        "pick_rotation": rng.random(steps).astype(np.float32),
        "place_rotation": rng.random(steps).astype(np.float32),
        "pose0": rng.random((steps, 7)).astype(np.float32),
        "pose1": rng.random((steps, 7)).astype(np.float32),
        "reward": np.full(steps, 1.0 / steps, np.float32),
    }


# Two train episodes (seeds 0, 2: 2 + 1 steps) and one test episode (seed 1: 1 step).
EPISODES = {0: _episode(2, 0), 2: _episode(1, 2), 1: _episode(1, 1)}


def write_demos(folder):
    for seed, episode in EPISODES.items():
        path = demonstrations.episode_path(f"{folder}/block-insertion", seed)
        demonstrations.save_episode(path, episode, "block-insertion", seed)


class RavensBuilderTest(manual_download_test_case.ManualDownloadTestCase):
    DATASET_CLASS = Ravens
    BUILDER_CONFIG_NAMES_TO_TEST = ["block-insertion"]
    SPLITS = {"train": 3, "test": 1}

    @staticmethod
    def write_manual_download(folder):
        write_demos(folder)


def _build(manual_dir, data_dir, config="block-insertion"):
    builder = Ravens(config=config, data_dir=data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual_dir)
    )
    return builder


def test_examples_hold_the_stored_steps(tmp_path):
    write_demos(str(tmp_path / "manual"))
    builder = _build(str(tmp_path / "manual"), str(tmp_path / "data"))
    examples = list(tfds.as_numpy(builder.as_dataset(split="train")))
    assert len(examples) == 3
    for example in examples:
        episode = EPISODES[int(example["episode_id"])]
        step = int(example["step"])
        np.testing.assert_array_equal(example["colormap"], episode["colormap"][step])
        np.testing.assert_array_equal(example["heightmap"], episode["heightmap"][step])
        np.testing.assert_array_equal(example["pick_pixel"], episode["pick_pixel"][step])
        np.testing.assert_array_equal(example["place_pixel"], episode["place_pixel"][step])
        assert example["pick_rotation"] == episode["pick_rotation"][step]
        assert example["place_rotation"] == episode["place_rotation"][step]
        np.testing.assert_array_equal(example["pose1"], episode["pose1"][step])
        assert example["reward"] == episode["reward"][step]
    (test_example,) = tfds.as_numpy(builder.as_dataset(split="test"))
    assert test_example["episode_id"] == 1


def test_missing_episodes_name_the_folder_and_command(tmp_path):
    (tmp_path / "manual" / "towers-of-hanoi").mkdir(parents=True)
    with pytest.raises(
        FileNotFoundError, match="keras-suite ravens collect --task towers-of-hanoi"
    ):
        _build(str(tmp_path / "manual"), str(tmp_path / "data"), config="towers-of-hanoi")


def test_reads_a_collected_set(tmp_path):
    from keras_suite.envs import ravens

    env = ravens.make("block-insertion")
    try:
        demonstrations.collect(env, ravens.OracleAgent(env), 1, str(tmp_path / "demos"), log=None)
    finally:
        env.close()
    episode = demonstrations.load_episode(
        str(tmp_path / "demos" / "block-insertion" / "000000.npz")
    )
    builder = _build(str(tmp_path / "demos"), str(tmp_path / "data"))
    examples = list(tfds.as_numpy(builder.as_dataset(split="train")))
    assert len(examples) == len(episode["reward"])
    np.testing.assert_array_equal(examples[0]["colormap"], episode["colormap"][0])
    np.testing.assert_array_equal(examples[0]["pick_pixel"], episode["pick_pixel"][0])
