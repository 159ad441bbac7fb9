import math
import os

import numpy as np
import pytest

from keras_suite.envs.ravens.demonstrations import save_episode
from keras_suite.testing import TestCase
from keras_suite.zoo.transporter.ravens_demonstrations import (
    episode_examples,
    load_examples,
    load_goal_images,
)


def _episode(steps=2, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "colormap": rng.integers(0, 255, (steps + 1, 8, 6, 3)).astype(np.uint8),
        "heightmap": rng.uniform(0, 0.1, (steps + 1, 8, 6)).astype(np.float32),
        "pick_pixel": np.array([[1, 2], [3, 4]][:steps], np.int32),
        "place_pixel": np.array([[5, 1], [6, 0]][:steps], np.int32),
        "pick_rotation": np.array([0.2, -0.1][:steps], np.float32),
        "place_rotation": np.array([0.2 + math.pi / 2, -0.1 - math.radians(10)][:steps], "f4"),
    }


class RavensDemonstrationsTest(TestCase):
    def test_examples_are_the_maps_before_each_action_and_its_labels(self):
        episode = _episode()
        images, picks, places, bins = episode_examples(episode, 36)
        self.assertEqual(images.shape, (2, 8, 6, 4))
        self.assertAllClose(images[1, ..., :3], episode["colormap"][1].astype("float32"))
        self.assertAllClose(images[1, ..., 3], episode["heightmap"][1])
        self.assertAllEqual(picks, episode["pick_pixel"])
        self.assertAllEqual(places, episode["place_pixel"])
        # +90 degrees relative yaw -> bin 9 of 36; -10 degrees -> bin 35.
        self.assertAllEqual(bins, np.array([9, 35]))

    def test_load_examples_concatenates_saved_episodes(self):
        folder = self.get_temp_dir()
        paths = []
        for seed in (0, 2):
            path = os.path.join(folder, f"{seed:06d}.npz")
            save_episode(path, _episode(seed=seed), "block-insertion", seed)
            paths.append(path)
        images, picks, _, bins = load_examples(paths, 4)
        self.assertEqual(images.shape, (4, 8, 6, 4))
        self.assertAllClose(images[2, ..., :3], _episode(seed=2)["colormap"][0].astype("f4"))
        self.assertAllEqual(bins, np.array([1, 0, 1, 0]))
        with pytest.raises(ValueError, match="No demonstration episodes"):
            load_examples([], 4)

    def test_goal_images_are_each_episodes_last_map(self):
        folder = self.get_temp_dir()
        paths = []
        for seed, steps in ((0, 2), (2, 1)):
            path = os.path.join(folder, f"{seed:06d}.npz")
            save_episode(path, _episode(steps, seed=seed), "block-insertion", seed)
            paths.append(path)
        goals = load_goal_images(paths)
        self.assertEqual(goals.shape, (3, 8, 6, 4))
        for index, (seed, step) in enumerate([(0, 2), (0, 2), (2, 1)]):
            episode = _episode(2 if seed == 0 else 1, seed=seed)
            self.assertAllClose(goals[index, ..., :3], episode["colormap"][step].astype("f4"))
            self.assertAllClose(goals[index, ..., 3], episode["heightmap"][step])

    def test_incomplete_episode_raises_a_clear_error(self):
        episode = _episode()
        del episode["place_rotation"]
        with pytest.raises(ValueError, match="lacks \\['place_rotation'\\]"):
            episode_examples(episode, 36)


def _footprint(before, after, pixel, crop, num_rotations, moved_away):
    """Rotated crops around `pixel` of where the block left (`moved_away`) or arrived."""
    from keras_suite.layers.transporter.crop_rotation import rotated_crops

    changed = np.abs(after - before) > 0.005
    if moved_away:
        changed &= before > after
    else:
        changed &= after > before
    mask = changed[None, ..., None].astype("float32")
    return np.asarray(rotated_crops(mask, pixel[None], num_rotations, crop))[0, ..., 0] > 0.5


@pytest.mark.slow
def test_rotation_label_turns_the_picked_block_onto_its_placed_footprint():
    # End to end against the simulator: in an oracle block-insertion demonstration, the crop
    # around the pick pixel turned by the label's rotation bin must cover the block where it
    # was put down, around the place pixel; at the model's coarser scale too.
    from keras_suite.envs import ravens
    from keras_suite.envs.ravens.demonstrations import run_episode
    from keras_suite.zoo.transporter.map_scaling import downsample_maps, downsample_pixels

    env = ravens.make("block-insertion")
    try:
        episode, success = run_episode(env, ravens.OracleAgent(env), seed=0)
    finally:
        env.close()
    assert success
    _, picks, places, bins = episode_examples(episode, 36)
    for scale in (1, 2):
        maps = downsample_maps(
            np.concatenate([episode["colormap"], episode["heightmap"][..., None]], -1), scale
        )
        before, after = maps[0, ..., 3], maps[1, ..., 3]
        pick, place = downsample_pixels(picks[0], scale), downsample_pixels(places[0], scale)
        crop = 48 // scale
        left = _footprint(before, after, pick, crop, 36, moved_away=True)
        arrived = _footprint(before, after, place, crop, 1, moved_away=False)[0]
        iou = [(m & arrived).sum() / max((m | arrived).sum(), 1) for m in left]
        assert int(np.argmax(iou)) == int(bins[0]), (scale, iou)
        assert max(iou) > 0.6, (scale, iou)
