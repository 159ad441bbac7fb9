import os

import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens import cameras, demonstrations


@pytest.fixture(scope="module")
def env():
    env = ravens.make("block-insertion")
    yield env
    env.close()


def test_seeds_follow_ravens_even_train_odd_test():
    assert [demonstrations.episode_seed("train", i) for i in range(3)] == [0, 2, 4]
    assert [demonstrations.episode_seed("test", i) for i in range(3)] == [1, 3, 5]
    with pytest.raises(ValueError, match="`split` must be one of"):
        demonstrations.episode_seed("val", 0)


def test_collect_writes_episodes_and_resumes_without_duplicates(env, tmp_path):
    folder = tmp_path / "block-insertion"
    stats = demonstrations.collect(env, ravens.OracleAgent(env), 2, str(tmp_path), log=None)
    assert stats["written"] == 2 and stats["existing"] == 0
    assert sorted(os.listdir(folder)) == ["000000.npz", "000002.npz"]
    # A run killed while writing leaves a hidden temporary file: it is ignored and the next
    # run resumes after the last complete episode.
    (folder / ".000004.npz.999.tmp").write_bytes(b"partial")
    gif = tmp_path / "episode.gif"
    stats = demonstrations.collect(
        env, ravens.OracleAgent(env), 3, str(tmp_path), log=None, gif_path=str(gif)
    )
    assert stats["written"] == 1 and stats["existing"] == 2
    files = demonstrations.list_episodes(str(folder))
    assert [os.path.basename(f) for f in files] == ["000000.npz", "000002.npz", "000004.npz"]
    assert gif.stat().st_size > 1000
    # Asking again for 3 collects nothing.
    assert (
        demonstrations.collect(env, ravens.OracleAgent(env), 3, str(tmp_path), log=None)["written"]
        == 0
    )

    episode = demonstrations.load_episode(files[-1])
    assert episode["task"] == "block-insertion" and episode["seed"] == 4
    steps = len(episode["reward"])
    assert episode["colormap"].shape == (steps + 1, 320, 160, 3)
    assert episode["heightmap"].shape == (steps + 1, 320, 160)
    assert np.sum(episode["reward"]) == pytest.approx(1.0)
    for pose, pixel in [
        (episode["pose0"], episode["pick_pixel"]),
        (episode["pose1"], episode["place_pixel"]),
    ]:
        for t in range(steps):
            assert tuple(pixel[t]) == cameras.position_to_pixel(pose[t][:3])
    # The same seed replays the same demonstration.
    again, success = demonstrations.run_episode(env, ravens.OracleAgent(env), 4)
    assert success
    np.testing.assert_allclose(again["pose0"], episode["pose0"], atol=1e-6)


def test_demonstrations_vary_with_the_agent_seed(env):
    a, _ = demonstrations.run_episode(env, ravens.OracleAgent(env, seed=1), 6)
    b, _ = demonstrations.run_episode(env, ravens.OracleAgent(env, seed=2), 6)
    assert not np.allclose(a["pose0"][0], b["pose0"][0])


def test_a_stored_episode_replays_to_success(env, tmp_path):
    demonstrations.collect(env, ravens.OracleAgent(env), 1, str(tmp_path), log=None)
    episode = demonstrations.load_episode(str(tmp_path / "block-insertion" / "000000.npz"))
    obs, info = env.reset(seed=episode["seed"])
    np.testing.assert_array_equal(obs["colormap"], episode["colormap"][0])
    for pose0, pose1 in zip(episode["pose0"], episode["pose1"]):
        obs, _, _, _, info = env.step(
            {"pose0": (pose0[:3], pose0[3:]), "pose1": (pose1[:3], pose1[3:])}
        )
    assert info["success"]
