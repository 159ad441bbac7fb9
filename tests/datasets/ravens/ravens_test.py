"""Tests of the `ravens` builder on episodes in the collector's format and the original Ravens'."""

import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_suite.datasets.ravens import Ravens
from keras_suite.envs.ravens import demonstrations
from keras_suite.testing import manual_download_test_case

from ...envs.ravens.original_ravens import dump, write_split


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


def test_a_new_episode_rebuilds_the_prepared_data_and_stale_data_is_refused(tmp_path):
    manual, data = str(tmp_path / "manual"), str(tmp_path / "data")
    write_demos(manual)
    config = tfds.download.DownloadConfig(manual_dir=manual)

    def load():
        return tfds.load(
            "ravens/block-insertion",
            split="train",
            data_dir=data,
            download_and_prepare_kwargs={"download_config": config},
        )

    assert len(list(load())) == 3
    added = _episode(2, 4)
    path = demonstrations.episode_path(f"{manual}/block-insertion", 4)
    demonstrations.save_episode(path, added, "block-insertion", 4)
    # Without a rebuild the prepared data would be stale: reading it is refused.
    with pytest.raises(ValueError, match="is stale: the episode files in .* changed"):
        Ravens(config="block-insertion", data_dir=data).as_dataset(split="train")
    examples = list(tfds.as_numpy(load()))
    assert len(examples) == 5
    new = [e for e in examples if e["episode_id"] == 4]
    np.testing.assert_array_equal(new[0]["colormap"], added["colormap"][int(new[0]["step"])])


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


def write_original_dataset(folder):
    """Two train episodes and one test episode of block-insertion, as the original writes them."""
    from keras_suite.envs import ravens

    env = ravens.make("block-insertion")
    try:
        write_split(folder, env, "train", 2)
        write_split(folder, env, "test", 1)
    finally:
        env.close()


class RavensOriginalFormatBuilderTest(manual_download_test_case.ManualDownloadTestCase):
    DATASET_CLASS = Ravens
    BUILDER_CONFIG_NAMES_TO_TEST = ["block-insertion"]
    SPLITS = {"train": 2, "test": 1}  # one action an episode

    @staticmethod
    def write_manual_download(folder):
        write_original_dataset(folder)


def test_an_original_dataset_gives_the_steps_the_shared_reader_reads(tmp_path):
    manual, data = str(tmp_path / "manual"), str(tmp_path / "data")
    write_original_dataset(manual)
    builder = _build(manual, data)
    examples = list(tfds.as_numpy(builder.as_dataset(split="train")))
    paths = demonstrations.demonstration_paths(manual, "block-insertion")
    episodes = {e["seed"]: e for e in map(demonstrations.load_episode, paths)}
    assert sorted(int(e["episode_id"]) for e in examples) == sorted(episodes)
    for example in examples:
        episode = episodes[int(example["episode_id"])]
        for key in demonstrations.EPISODE_KEYS:
            np.testing.assert_array_equal(example[key], episode[key][int(example["step"])])
    # A rewritten pickle makes the prepared data stale; `tfds.load` rebuilds it.
    reward = f"{manual}/block-insertion-train/reward/{os.path.basename(paths[0])}"
    dump([0.0, 0.5], reward)
    with pytest.raises(ValueError, match="is stale: the episode files in .* changed"):
        Ravens(config="block-insertion", data_dir=data).as_dataset(split="train")
    rebuilt = tfds.load(
        "ravens/block-insertion",
        split="train",
        data_dir=data,
        download_and_prepare_kwargs={
            "download_config": tfds.download.DownloadConfig(manual_dir=manual)
        },
    )
    rewards = {int(e["episode_id"]): float(e["reward"]) for e in tfds.as_numpy(rebuilt)}
    assert rewards[demonstrations.seed_of(paths[0])] == 0.5
