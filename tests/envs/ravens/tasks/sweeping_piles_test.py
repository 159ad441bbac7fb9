import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens.arm import yaw_of

from ..conftest import fixed_bodies, place


@pytest.fixture(scope="module")
def env():
    env = ravens.make("sweeping-piles")
    yield env
    env.close()


def _scene(env, seed):
    env.reset(seed=seed)
    (zone,) = fixed_bodies(env)
    return env.pose(zone)[0], sorted(env.movable)


def test_all_blocks_in_the_zone_is_a_success(env):
    centre, blocks = _scene(env, 1)
    assert len(blocks) == 50
    rng = np.random.default_rng(0)
    for block in blocks:  # within 4 cm of the centre of the 12 cm zone, at any rotation
        dx, dy = rng.uniform(-0.04, 0.04, 2)
        place(env, block, (centre[0] + dx, centre[1] + dy, 0.005), rng.uniform(0, np.pi))
    assert env.task.reward(env) == pytest.approx(1.0)
    assert env.task.done()


def test_one_block_left_out_is_not_a_success(env):
    centre, blocks = _scene(env, 3)
    assert env.task.reward(env) == 0.0  # the pile starts away from the zone
    for block in blocks:
        place(env, block, (centre[0], centre[1], 0.005))
    place(env, blocks[7], (centre[0] + 0.1, centre[1], 0.005))
    assert env.task.reward(env) == pytest.approx(49 / 50)
    assert not env.task.done()


def _zone_frame(env):
    """The zone's centre and a function from zone-frame (x, y) to world (x, y, block height)."""
    (zone,) = fixed_bodies(env)
    position, orientation = env.pose(zone)
    yaw = yaw_of(orientation)
    rotation = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])

    def world(x, y):
        return (*(position[:2] + rotation @ np.array([x, y])), 0.005)

    return position[:2], yaw, world


def _tidy(env, blocks, world, yaw):
    """Puts `blocks` in a 7 x 8 grid of 1.2 cm pitch around the zone's centre."""
    for i, block in enumerate(blocks):
        place(env, block, world(0.012 * (i % 7) - 0.036, 0.012 * (i // 7) - 0.042), yaw)


def test_blocks_outside_are_the_blocks_with_a_point_out_of_the_zone(env):
    _, blocks = _scene(env, 5)
    centre, yaw, world = _zone_frame(env)
    _tidy(env, blocks, world, yaw)
    goal = env.task.goals[0]
    assert len(env.task.blocks_outside(env)) == 0
    assert env.task.goal_score(env, goal) == pytest.approx(1.0)
    # Scored points sit 2.5 mm either side of a block's centre: at 5.8 cm from the zone's
    # centre (edge at 6 cm) half of them are out; at 5.7 cm all are in.
    place(env, blocks[0], world(0.058, 0.0), yaw)
    place(env, blocks[1], world(0.0, -0.057), yaw)
    place(env, blocks[2], world(-0.2, 0.1), 0.3)
    outside = env.task.blocks_outside(env)
    np.testing.assert_allclose(
        sorted(map(tuple, outside)), sorted([world(0.058, 0.0)[:2], world(-0.2, 0.1)[:2]])
    )
    assert env.task.goal_score(env, goal) == pytest.approx((400 - 4 - 8) / 400)


def test_oracle_pushes_from_behind_a_line_of_blocks_to_short_of_the_centre(env):
    _, blocks = _scene(env, 7)
    centre, yaw, world = _zone_frame(env)
    _tidy(env, blocks[3:], world, yaw)
    # Three blocks, all under one blade, on the way from the zone to the workspace's middle
    # (where there is room behind them).
    u = (np.array([0.5, 0.0]) - centre) / np.linalg.norm(np.array([0.5, 0.0]) - centre)
    v = np.array([-u[1], u[0]])
    line = [centre + 0.14 * u, centre + 0.17 * u + 0.01 * v, centre + 0.2 * u + 0.02 * v]
    for block, xy in zip(blocks, line):
        place(env, block, (*xy, 0.005), 0.2)
    for seed in range(4):
        action = ravens.OracleAgent(env, seed=seed).act(None)
        start, end = action["pose0"][0][:2], action["pose1"][0][:2]
        direction = (centre - start) / np.linalg.norm(centre - start)
        # The push ends 5 cm short of the centre, on the line from its start to the centre ...
        np.testing.assert_allclose(end, centre - 0.05 * direction, atol=1e-9)
        # ... starts at least 2 cm behind every block of the line, with all of them under the
        # 12 cm blade, and the spatula faces along the push.
        for xy in line:
            relative = xy - start
            assert relative @ direction >= 0.02 - 1e-9
            assert abs(relative @ np.array([-direction[1], direction[0]])) < 0.06
        assert yaw_of(action["pose0"][1]) == pytest.approx(np.arctan2(*direction[::-1]))


def test_an_oracle_push_brings_a_stray_block_into_the_zone(env):
    _, blocks = _scene(env, 9)
    _, yaw, world = _zone_frame(env)
    _tidy(env, blocks[1:], world, yaw)
    place(env, blocks[0], world(-0.12, 0.05), 0.4)
    env.settle()
    assert env.task.goal_score(env, env.task.goals[0]) == pytest.approx(49 / 50)
    obs = env._observe()
    _, reward, terminated, _, info = env.step(ravens.OracleAgent(env).act(obs, {}))
    assert info["action_error"] is None
    assert info["success"] and terminated
    assert reward == pytest.approx(1.0)


def test_zone_outline_and_pile_look_as_the_originals(env):
    centre, blocks = _scene(env, 0)
    classes = env.task.object_classes
    (zone,) = classes["zone"]
    assert classes["pile"] == blocks
    # Original Ravens assets/zone/zone.obj at scale 0.006: a 12 cm square frame, 6 mm wide,
    # 1 mm thick, pure green.
    bars = env.client.getVisualShapeData(zone)
    assert len(bars) == 4
    for bar in bars:
        np.testing.assert_allclose(bar[7][:3], (0.0, 1.0, 0.0))
        assert sorted(bar[3]) == pytest.approx([0.001, 0.006, 0.12])
        assert np.max(np.abs(bar[5][:2])) == pytest.approx(0.06 - 0.003)
    # Original Ravens assets/block/small.urdf, coloured red (255, 87, 89) by the palette.
    for block in blocks:
        rgb = np.array(env.client.getVisualShapeData(block)[0][7][:3]) * 255
        np.testing.assert_allclose(rgb, (255, 87, 89), atol=0.5)
        np.testing.assert_allclose(env.client.getVisualShapeData(block)[0][3], (0.01,) * 3)
