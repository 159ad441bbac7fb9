import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens import cameras, objects
from keras_suite.envs.ravens.tasks import TASK_CLASSES
from keras_suite.envs.ravens.tasks.task import Goal, Task


def test_tasks_lists_the_registered_tasks():
    assert ravens.TASKS == tuple(sorted(TASK_CLASSES))
    for name, cls in TASK_CLASSES.items():
        assert cls.name == name


def test_unknown_task_lists_the_valid_names():
    names = "align-box-corner, assembling-kits, block-insertion"
    with pytest.raises(ValueError, match=f"Valid names: {names}") as e:
        ravens.make("block-insertio")
    assert "Received: task='block-insertio'" in str(e.value)


class _OneBoxTask(Task):
    """One hand-placed box, to be moved to (0.3, -0.3) (for the camera and arm checks)."""

    name = "one-box"

    def build(self, env, rng):
        self.box = env.add_movable(
            objects.add_box(
                env.client, (0.04, 0.06, 0.05), ((0.5, 0.2, 0.025), (0, 0, 0, 1)), "red"
            )
        )
        target = (np.array([0.3, -0.3, 0.025]), np.array([0.0, 0.0, 0.0, 1.0]))
        self.goals.append(Goal([(self.box, np.pi)], np.ones((1, 1)), [target]))


@pytest.fixture(scope="module")
def box_env():
    env = ravens.RavensEnv(_OneBoxTask())
    yield env
    env.close()


def test_fused_heightmap_shows_the_box_where_hand_computed(box_env):
    obs, _ = box_env.reset(seed=0)
    heightmap, colormap = obs["heightmap"], obs["colormap"]
    assert heightmap.shape == (320, 160) and colormap.shape == (320, 160, 3)
    # Box x 0.48..0.52, y 0.17..0.23: columns (x - 0.25) / 0.003125 = 73.6..86.4,
    # rows (y + 0.5) / 0.003125 = 214.4..233.6; its top is 0.05 m above the table.
    np.testing.assert_allclose(heightmap[216:232, 76:84], 0.05, atol=0.002)
    assert np.all(heightmap[216:232, 90:100] < 0.002)
    assert np.all(heightmap[200:210, 76:84] < 0.002)
    red = np.array(objects.COLORS["red"]) * 255
    # The top face is lit, so its colour is the red scaled by the shading, hue kept.
    top = colormap[224, 80].astype(float)
    assert top[0] > 1.3 * top[1] and top[0] > 1.3 * top[2] and red[0] > red[1]
    assert cameras.position_to_pixel((0.501, 0.201)) == (224, 80)
    np.testing.assert_allclose(
        cameras.pixel_to_position((224, 80), heightmap)[:2], (0.5015625, 0.2015625)
    )


def test_observation_matches_the_space(box_env):
    obs, info = box_env.reset(seed=2)
    assert box_env.observation_space.contains(obs)
    assert obs["color"].shape == (3, 480, 640, 3) and obs["depth"].shape == (3, 480, 640)
    np.testing.assert_allclose(obs["intrinsics"][0], [[450, 0, 320], [0, 450, 240], [0, 0, 1]])
    np.testing.assert_allclose(obs["camera_poses"][0][:3, 3], (1.0, 0.0, 0.75))
    # The front camera sees the table centre (0.5, 0, 0) at the depth of the geometry.
    expected = np.linalg.inv(obs["camera_poses"][0]) @ np.array([0.5, 0.0, 0.0, 1.0])
    u = 450 * expected[0] / expected[2] + 320
    v = 450 * expected[1] / expected[2] + 240
    assert obs["depth"][0][int(v), int(u)] == pytest.approx(expected[2], abs=0.01)
    assert info["mode"] == "train" and not info["success"]


def test_malformed_actions_raise_clear_errors(box_env):
    box_env.reset(seed=0)
    with pytest.raises(ValueError, match="keys 'pose0' and 'pose1'"):
        box_env.step({"pose0": ((0.5, 0, 0), (0, 0, 0, 1))})
    with pytest.raises(ValueError, match=r"action\['pose1'\].*position of 3 floats"):
        box_env.step({"pose0": ((0.5, 0, 0), (0, 0, 0, 1)), "pose1": ((0.5, 0), (0, 0, 0, 1))})
    with pytest.raises(ValueError, match="finite"):
        box_env.step(
            {"pose0": ((0.5, np.nan, 0), (0, 0, 0, 1)), "pose1": ((0.5, 0, 0), (0, 0, 0, 1))}
        )
    with pytest.raises(ValueError, match="zero quaternion"):
        box_env.step({"pose0": ((0.5, 0, 0), (0, 0, 0, 0)), "pose1": ((0.5, 0, 0), (0, 0, 0, 1))})


def test_action_outside_the_workspace_is_a_failed_step(box_env):
    box_env.reset(seed=0)
    before = box_env.pose(box_env.task.box)[0]
    action = {"pose0": ((0.5, 0.2, 0.05), (0, 0, 0, 1)), "pose1": ((1.5, 0.0, 0.05), (0, 0, 0, 1))}
    _, reward, terminated, truncated, info = box_env.step(action)
    assert (
        "pose1 position (1.5, 0, 0.05) is outside the workspace (x 0.25..0.75"
        in info["action_error"]
    )
    assert reward == 0.0 and not terminated and info["steps"] == 1
    np.testing.assert_allclose(box_env.pose(box_env.task.box)[0], before, atol=1e-4)


def test_pick_and_place_moves_the_box_by_the_commanded_offset_and_turn(box_env):
    box_env.reset(seed=0)
    # Pick the top centre, place 10 cm towards -y and turned by 90 degrees.
    turn = (0, 0, np.sin(np.pi / 4), np.cos(np.pi / 4))
    action = {"pose0": ((0.5, 0.2, 0.05), (0, 0, 0, 1)), "pose1": ((0.5, 0.1, 0.05), turn)}
    _, _, _, _, info = box_env.step(action)
    assert info["action_error"] is None
    position, orientation = box_env.pose(box_env.task.box)
    np.testing.assert_allclose(position, (0.5, 0.1, 0.025), atol=0.004)
    assert 2 * np.arctan2(orientation[2], orientation[3]) == pytest.approx(np.pi / 2, abs=0.03)
    # The arm went home: nothing of it is left in the workspace's height map.
    assert box_env.arm.joints()[0] == pytest.approx(np.pi, abs=0.01)


def test_place_height_read_from_the_table_sets_the_box_down_without_pressing_it_in(
    box_env, monkeypatch
):
    box_env.reset(seed=0)
    arm, box = box_env.arm, box_env.task.box
    # Contact distances (negative: penetration) of the box when the suction lets go.
    at_release = []
    release = arm.release

    def recorded_release():
        at_release.extend(pt[8] for pt in box_env.client.getContactPoints(bodyA=box))
        release()

    monkeypatch.setattr(arm, "release", recorded_release)
    # A Transporter reads the place height from the height map under the place pixel: the
    # table (z 0), though the tip holds the box 5 cm above its bottom.
    turn = (0, 0, np.sin(np.pi / 8), np.cos(np.pi / 8))
    action = {"pose0": ((0.5, 0.2, 0.05), (0, 0, 0, 1)), "pose1": ((0.4, 0.0, 0.0), turn)}
    _, _, _, _, info = box_env.step(action)
    assert info["action_error"] is None
    assert at_release and min(at_release) > -0.002
    position, orientation = box_env.pose(box)
    np.testing.assert_allclose(position, (0.4, 0.0, 0.025), atol=0.004)
    assert 2 * np.arctan2(orientation[2], orientation[3]) == pytest.approx(np.pi / 4, abs=0.03)


def test_grasping_empty_table_is_a_failed_step(box_env):
    box_env.reset(seed=0)
    action = {"pose0": ((0.3, -0.3, 0.0), (0, 0, 0, 1)), "pose1": ((0.4, -0.3, 0.0), (0, 0, 0, 1))}
    _, reward, _, _, info = box_env.step(action)
    assert "nothing was grasped" in info["action_error"] and reward == 0.0


def test_episode_api_rewards_sum_to_one_and_limits_steps():
    env = ravens.make("block-insertion")
    try:
        obs, info = env.reset(seed=1)
        first = {b: env.pose(b)[0] for b in env.movable}
        env.reset(seed=1)
        for body, position in first.items():  # same seed, same scene
            np.testing.assert_allclose(env.pose(body)[0], position)
        obs, info = env.reset(seed=1)
        assert info["mode"] == "test"
        agent = ravens.OracleAgent(env)
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
            total += reward
            done = terminated or truncated
        assert terminated and info["success"] and total == pytest.approx(1.0)
        # Failed steps (nothing grasped) run into the step limit: truncated, not terminated.
        env.reset(seed=2)
        empty = {
            "pose0": ((0.26, -0.49, 0.0), (0, 0, 0, 1)),
            "pose1": ((0.3, -0.4, 0.0), (0, 0, 0, 1)),
        }
        for step in range(env.max_steps):
            _, _, terminated, truncated, info = env.step(empty)
            assert not terminated
            assert truncated == (step == env.max_steps - 1)
    finally:
        env.close()


def test_two_environments_live_in_one_process():
    a, b = ravens.make("block-insertion"), ravens.make("align-box-corner")
    try:
        a.reset(seed=1)
        b.reset(seed=1)
        assert a.client._client != b.client._client
        assert len(a.movable) == 1 and len(b.movable) == 1
    finally:
        a.close()
        b.close()
