import os

import numpy as np
import pybullet as p
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens import cameras, original_format

from .original_ravens import dump, record_episode, write_episode


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One place-red-in-green episode (seed 0, 2 actions) in an original `-train` folder."""
    env = ravens.make("place-red-in-green")
    try:
        records, success = record_episode(env, 0)
    finally:
        env.close()
    assert success and len(records) == 3
    folder = str(tmp_path_factory.mktemp("data") / "place-red-in-green-train")
    write_episode(folder, 0, 0, records)
    return folder, records


def test_our_cameras_are_the_original_realsense_d415_configuration():
    # Original Ravens, ravens/tasks/cameras.py, `RealSenseD415.CONFIG` (front, left, right).
    eulers = [
        (np.pi / 4, np.pi, -np.pi / 2),
        (np.pi / 4.5, np.pi, np.pi / 4),
        (np.pi / 4.5, np.pi, 3 * np.pi / 4),
    ]
    positions = [(1.0, 0.0, 0.75), (0.0, 0.5, 0.75), (0.0, -0.5, 0.75)]
    assert len(cameras.DEFAULT_CAMERAS) == original_format.NUM_CAMERAS == 3
    for camera, euler, position in zip(cameras.DEFAULT_CAMERAS, eulers, positions):
        assert camera.image_size == original_format.IMAGE_SIZE == (480, 640)
        assert camera.intrinsics == (450.0, 0, 320.0, 0, 450.0, 240.0, 0, 0, 1)
        assert camera.position == position
        np.testing.assert_allclose(camera.rotation, p.getQuaternionFromEuler(euler), atol=1e-12)
        assert camera.zrange == (0.01, 10.0)
    # ravens/dataset.py: the maps' bounds and pixel size.
    np.testing.assert_array_equal(cameras.BOUNDS, [[0.25, 0.75], [-0.5, 0.5], [0, 0.28]])
    assert cameras.PIXEL_SIZE == 0.003125


def test_the_camera_images_fuse_into_the_maps_our_environment_showed(recorded):
    folder, records = recorded
    (path,) = original_format.list_episodes(folder)
    assert path == os.path.join(folder, "action", "000000-0.pkl")
    episode = original_format.read_episode(path)
    assert (episode["task"], episode["seed"]) == ("place-red-in-green", 0)
    for t, (obs, _, _, _) in enumerate(records):
        np.testing.assert_array_equal(episode["colormap"][t], obs["colormap"])
        np.testing.assert_allclose(episode["heightmap"][t], obs["heightmap"], atol=1e-7)
    # Each action's reward is stored with the record after it.
    np.testing.assert_allclose(episode["reward"], [records[1][2], records[2][2]])
    assert len(episode["actions"]) == 2
    for action, (_, recorded_action, _, _) in zip(episode["actions"], records):
        for key in ("pose0", "pose1"):
            np.testing.assert_array_equal(action[key][0], recorded_action[key][0])
            np.testing.assert_array_equal(action[key][1], recorded_action[key][1])


def _original_heightmap(depths):
    """The original's fused heights from three depth images, recomputed in float64.

    ravens/utils/utils.py: `get_pointcloud` back-projects pixel `(u, v)` at depth `d` to
    `((u - cx) d / fx, (v - cy) d / fy, d)`, `transform_pointcloud` moves it by the camera pose,
    `get_heightmap` keeps points inside the bounds and bins them by `floor`, each cell keeping
    its highest point, and `get_fused_heightmap` takes the maximum over the cameras.
    """
    bounds, size = np.array([[0.25, 0.75], [-0.5, 0.5], [0, 0.28]]), 0.003125
    heights = np.zeros((320, 160))
    intrinsics = np.array([[450.0, 0, 320.0], [0, 450.0, 240.0], [0, 0, 1]])
    for depth, camera in zip(depths, cameras.DEFAULT_CAMERAS):
        v, u = np.mgrid[0:480, 0:640].astype(np.float64)
        d = depth.astype(np.float64)
        points = np.stack(
            [
                (u - intrinsics[0, 2]) * d / intrinsics[0, 0],
                (v - intrinsics[1, 2]) * d / intrinsics[1, 1],
                d,
            ],
            axis=-1,
        ).reshape(-1, 3)
        rotation = np.array(p.getMatrixFromQuaternion(camera.rotation)).reshape(3, 3)
        points = points @ rotation.T + np.array(camera.position)
        points = points[np.all((points >= bounds[:, 0]) & (points < bounds[:, 1]), axis=1)]
        col = np.floor((points[:, 0] - bounds[0, 0]) / size).astype(int)
        row = np.floor((points[:, 1] - bounds[1, 0]) / size).astype(int)
        np.maximum.at(heights, (row, col), points[:, 2] - bounds[2, 0])
    return heights


def test_the_heights_are_the_original_fusions(recorded):
    folder, records = recorded
    episode = original_format.read_episode(original_format.list_episodes(folder)[0])
    for t, (obs, _, _, _) in enumerate(records):
        expected = _original_heightmap(obs["depth"])
        np.testing.assert_allclose(episode["heightmap"][t], expected, atol=1e-6)
        assert (expected > 0.01).sum() > 100  # the blocks and bowls were seen


def test_list_episodes_keeps_complete_episodes_in_the_order_written(recorded, tmp_path):
    folder, _ = recorded
    assert original_format.list_episodes(str(tmp_path)) == []
    for field in original_format.FIELDS:
        os.makedirs(tmp_path / field)
        for name in ("000000-4.pkl", "000001-12.pkl", "000002-6.pkl"):
            if not (field == "reward" and name == "000002-6.pkl"):  # still being written
                (tmp_path / field / name).write_bytes(b"")
    names = [os.path.basename(path) for path in original_format.list_episodes(str(tmp_path))]
    assert names == ["000000-4.pkl", "000001-12.pkl"]
    path = original_format.list_episodes(str(tmp_path))[1]
    assert original_format.episode_seed(path) == 12
    assert original_format.is_episode_path(path)
    assert not original_format.is_episode_path(str(tmp_path / "color" / "000000-4.pkl"))
    assert original_format.episode_task(original_format.list_episodes(folder)[0]) == (
        "place-red-in-green"
    )


def test_episodes_not_in_the_original_format_are_refused(recorded, tmp_path):
    _, records = recorded
    folder = str(tmp_path / "place-red-in-green-train")
    write_episode(folder, 0, 0, records)
    path = original_format.list_episodes(folder)[0]
    # Images of another size would fuse wrongly with the RealSense D415 cameras.
    small = np.zeros((3, 3, 240, 320, 3), np.uint8)
    dump(small, os.path.join(folder, "color", "000000-0.pkl"))
    with pytest.raises(ValueError, match=r"`color` .* uint8 of shape \(3, 3, 480, 640, 3\)"):
        original_format.read_episode(path)
    write_episode(folder, 0, 0, records)
    # The original's `ContinuousEnvironment` stores motion commands, not pick-and-place poses.
    dump([{"move_cmd": (0, 0)}, None], path)
    with pytest.raises(ValueError, match="Only pick-and-place actions"):
        original_format.read_episode(path)
