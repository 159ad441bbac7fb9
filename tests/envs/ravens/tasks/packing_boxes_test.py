import numpy as np
import pytest

from keras_suite.envs import ravens

from ..conftest import fixed_bodies, place


@pytest.fixture(scope="module")
def env():
    env = ravens.make("packing-boxes")
    yield env
    env.close()


def _scene(env, seed):
    env.reset(seed=seed)
    (container,) = fixed_bodies(env)
    position, orientation = env.pose(container)
    yaw = 2 * np.arctan2(orientation[2], orientation[3])
    return position, yaw, sorted(env.movable)


def _points(env, box):
    # The zone metric samples a box every 2 cm per axis: ceil(side / 0.02) points per axis.
    place(env, box, env.pose(box)[0], 0.0)
    low, high = (np.array(v) for v in env.client.getAABB(box))
    return int(np.prod(np.ceil((high - low - 1e-6) / 0.02)))


def test_every_box_inside_the_container_is_a_success(env):
    centre, yaw, boxes = _scene(env, 1)
    for box in boxes:  # the boxes tile the container, so each fits in it alone
        place(env, box, (centre[0], centre[1], 0.025), yaw)
    assert env.task.reward(env) == pytest.approx(1.0)
    assert env.task.done()


def test_a_box_left_outside_costs_its_share_of_points(env):
    centre, yaw, boxes = _scene(env, 5)
    assert len(boxes) >= 2
    counts = {box: _points(env, box) for box in boxes}
    for box in boxes:
        place(env, box, (centre[0], centre[1], 0.025), yaw)
    outside = boxes[0]
    place(env, outside, (centre[0] + 0.45, centre[1], 0.025), yaw)  # beyond any container
    expected = 1 - counts[outside] / sum(counts.values())
    assert env.task.reward(env) == pytest.approx(expected)
    assert not env.task.done()
