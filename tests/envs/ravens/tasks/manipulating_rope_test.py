import numpy as np
import pytest

from keras_suite.envs import ravens

from ..conftest import fixed_bodies, place

SIDE = 2 * 0.005 * 20 * np.sqrt(2)  # Ravens' rope length, also the square's side


@pytest.fixture(scope="module")
def env():
    env = ravens.make("manipulating-rope")
    yield env
    env.close()


def _scene(env, seed):
    env.reset(seed=seed)
    (square,) = fixed_bodies(env)
    position, orientation = env.pose(square)
    yaw = 2 * np.arctan2(orientation[2], orientation[3])
    x_axis = np.array([np.cos(yaw), np.sin(yaw)])
    y_axis = np.array([-np.sin(yaw), np.cos(yaw)])
    # The open side runs from corner (+s/2, +s/2) to (-s/2, +s/2) of the square frame.
    corner0 = position[:2] + SIDE / 2 * (x_axis + y_axis)
    corner1 = position[:2] + SIDE / 2 * (-x_axis + y_axis)
    beads = sorted(env.movable)  # created from one end to the other
    assert len(beads) == 20
    return beads, corner0, corner1, y_axis


def _lay(env, beads, start, end, shift=(0.0, 0.0)):
    for i, bead in enumerate(beads):
        xy = start + (i + 0.5) / len(beads) * (end - start) + np.asarray(shift)
        place(env, bead, (*xy, 0.005))


def test_rope_along_the_open_side_is_a_success_in_either_direction(env):
    beads, corner0, corner1, _ = _scene(env, 1)
    _lay(env, beads, corner0, corner1)
    assert env.task.reward(env) == pytest.approx(1.0)
    beads, corner0, corner1, _ = _scene(env, 1)
    _lay(env, beads, corner1, corner0)
    assert env.task.reward(env) == pytest.approx(1.0)
    assert env.task.done()


def test_rope_off_the_line_or_heaped_is_not_a_success(env):
    beads, corner0, corner1, y_axis = _scene(env, 3)
    goal = env.task.goals[0]
    assert env.task.goal_score(env, goal) < 0.5  # the dropped heap
    _lay(env, beads, corner0, corner1, shift=0.03 * y_axis)  # parallel, 3 cm outside
    assert env.task.goal_score(env, goal) == 0.0
    _lay(env, beads, corner0, corner1, shift=0.015 * y_axis)  # within the 2 cm tolerance
    assert env.task.goal_score(env, goal) == pytest.approx(1.0)
    _lay(env, beads, corner0, corner1, shift=0.03 * y_axis)
    # Half the rope on its half of the line (bead i of 10 on half the length lands exactly on
    # target i of 20), the other half 3 cm away.
    _lay(env, beads[:10], corner0, (corner0 + corner1) / 2)
    assert env.task.goal_score(env, goal) == pytest.approx(0.5)
    assert not env.task.done()


def test_square_and_rope_look_as_the_originals(env):
    env.reset(seed=0)
    classes = env.task.object_classes
    (square,) = classes["square"]
    beads = classes["rope"]
    assert len(beads) == 20 and set(beads) == env.movable
    # Original Ravens assets/square/square-template.urdf: 1 cm wide pure green bars whose
    # centre lines lie 5 mm inside the square of side `SIDE`.
    bars = env.client.getVisualShapeData(square)
    assert len(bars) == 3
    for bar in bars:
        np.testing.assert_allclose(bar[7][:3], (0.0, 1.0, 0.0))
        assert sorted(bar[3][:2]) == pytest.approx([0.01, SIDE])
        assert np.max(np.abs(bar[5][:2])) == pytest.approx(SIDE / 2 - 0.005)
    # Original Ravens tasks/manipulating_rope.py colours the inner beads red (255, 87, 89)
    # and leaves the two end beads pybullet's default white.
    colors = [np.round(np.array(env.client.getVisualShapeData(b)[0][7][:3]) * 255) for b in beads]
    for i, rgb in enumerate(colors):
        expected = (255, 255, 255) if i in (0, 19) else (255, 87, 89)
        np.testing.assert_allclose(rgb, expected)
