import os

import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens import cameras, demonstrations

from .original_ravens import dump, write_split


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


def _touch_episode(folder, seed):
    os.makedirs(folder, exist_ok=True)
    with open(demonstrations.episode_path(folder, seed), "wb") as f:
        f.write(b"x" * (seed + 1))


def test_demonstration_paths_pick_the_split_and_say_how_to_collect_more(tmp_path):
    folder = str(tmp_path / "block-insertion")
    for seed in (0, 1, 2, 4):
        _touch_episode(folder, seed)
    names = [
        os.path.basename(p)
        for p in demonstrations.demonstration_paths(str(tmp_path), "block-insertion", count=2)
    ]
    assert names == ["000000.npz", "000002.npz"]
    test = demonstrations.demonstration_paths(str(tmp_path), "block-insertion", "test")
    assert [os.path.basename(p) for p in test] == ["000001.npz"]
    with pytest.raises(ValueError, match="4 train episodes of block-insertion are needed but"):
        demonstrations.demonstration_paths(str(tmp_path), "block-insertion", count=4)
    with pytest.raises(FileNotFoundError, match="ravens collect --task towers-of-hanoi"):
        demonstrations.demonstration_paths(str(tmp_path), "towers-of-hanoi")


def test_the_fingerprint_changes_when_an_episode_is_added_or_rewritten(tmp_path):
    folder = str(tmp_path)
    _touch_episode(folder, 0)
    first = demonstrations.demonstrations_fingerprint(demonstrations.list_episodes(folder))
    assert first == demonstrations.demonstrations_fingerprint(demonstrations.list_episodes(folder))
    _touch_episode(folder, 2)
    second = demonstrations.demonstrations_fingerprint(demonstrations.list_episodes(folder))
    assert second != first
    with open(demonstrations.episode_path(folder, 2), "ab") as f:
        f.write(b"more")
    assert demonstrations.demonstrations_fingerprint(demonstrations.list_episodes(folder)) != second


def test_collect_demonstrations_reports_each_episode(tmp_path):
    calls = []
    stats = demonstrations.collect_demonstrations(
        "block-insertion",
        2,
        str(tmp_path),
        progress=lambda done, total, **values: calls.append((done, total, values)),
    )
    assert stats["written"] == 2 and stats["folder"] == str(tmp_path / "block-insertion")
    assert calls == [(1, 2, {"failed": 0}), (2, 2, {"failed": 0})]
    assert stats["demos_per_minute"] > 0


def test_an_original_ravens_dataset_reads_as_our_own_episodes(env, tmp_path):
    written = write_split(str(tmp_path), env, "train", 2)
    (test_seed,) = write_split(str(tmp_path), env, "test", 1)
    paths = demonstrations.demonstration_paths(str(tmp_path), "block-insertion")
    assert paths == [
        str(tmp_path / "block-insertion-train" / "action" / f"{index:06d}-{seed}.pkl")
        for index, seed in enumerate(written)
    ]
    (test_path,) = demonstrations.demonstration_paths(str(tmp_path), "block-insertion", "test")
    assert demonstrations.seed_of(test_path) == test_seed and test_seed % 2 == 1
    for path, seed in zip(paths, written):
        episode = demonstrations.load_episode(path)
        assert (episode["task"], episode["seed"]) == ("block-insertion", seed)
        # The same scene and oracle collected here: the same arrays.
        ours, _ = demonstrations.run_episode(env, ravens.OracleAgent(env, seed=0), seed)
        assert sorted(ours) == sorted(demonstrations.EPISODE_KEYS)
        for key in demonstrations.EPISODE_KEYS:
            assert episode[key].dtype == ours[key].dtype, key
            np.testing.assert_allclose(episode[key], ours[key], atol=1e-6, err_msg=key)
        # The pixels and yaws of the poses, worked out by hand: the cell `floor` of (y, x)
        # from the bounds' corner (0.25, -0.5) in 3.125 mm steps; the yaw of the quaternion
        # (0, 0, sin(yaw / 2), cos(yaw / 2)) of a turn about z.
        for pose, pixel, yaw in [
            (episode["pose0"], episode["pick_pixel"], episode["pick_rotation"]),
            (episode["pose1"], episode["place_pixel"], episode["place_rotation"]),
        ]:
            expected = np.floor((pose[:, [1, 0]] - [-0.5, 0.25]) / 0.003125)
            np.testing.assert_array_equal(pixel, expected)
            np.testing.assert_allclose(pose[:, 3:5], 0.0, atol=1e-6)
            angle = 2 * np.arctan2(pose[:, 5], pose[:, 6])
            np.testing.assert_allclose(np.angle(np.exp(1j * (yaw - angle))), 0.0, atol=1e-5)
    assert demonstrations.load_episode(paths[0])["reward"].tolist() == [1.0]


def test_original_datasets_say_what_is_missing_and_count_in_the_fingerprint(env, tmp_path):
    folder = str(tmp_path)
    write_split(folder, env, "train", 1)
    with pytest.raises(ValueError, match="2 train episodes .* but .*block-insertion-train holds 1"):
        demonstrations.demonstration_paths(folder, "block-insertion", count=2)
    with pytest.raises(FileNotFoundError, match="nor an original Ravens dataset in .*-test"):
        demonstrations.demonstration_paths(folder, "block-insertion", "test")
    (path,) = demonstrations.task_episodes(folder, "block-insertion")
    first = demonstrations.demonstrations_fingerprint([path])
    assert first == demonstrations.demonstrations_fingerprint([path])
    # The depth images rewritten: the maps read from them change, so does the fingerprint.
    depth = str(tmp_path / "block-insertion-train" / "depth" / os.path.basename(path))
    dump(np.zeros((2, 3, 480, 640), np.float32), depth)
    assert demonstrations.demonstrations_fingerprint([path]) != first
    # Our own episodes of a split come first.
    _touch_episode(str(tmp_path / "block-insertion"), 4)
    (ours,) = demonstrations.demonstration_paths(folder, "block-insertion")
    assert ours == demonstrations.episode_path(str(tmp_path / "block-insertion"), 4)
    assert demonstrations.task_episodes(folder, "block-insertion") == [ours]
