import numpy as np
import pytest

from keras_suite.envs import ravens

from ..conftest import place

# The pallet zone: 0.3 x 0.25 m centred at (0.5, 0.25). Boxes are at most 9 x 6 cm, so a 3 x 2
# grid with centres 9 cm (x) and 6 cm (y) from the middle keeps every box inside.
GRID = [(dx, dy) for dx in (-0.09, 0.0, 0.09) for dy in (-0.06, 0.06)]


@pytest.fixture(scope="module")
def env():
    env = ravens.make("palletizing-boxes")
    yield env
    env.close()


def _fill(env, boxes):
    for i, box in enumerate(boxes):
        dx, dy = GRID[i % 6]
        low, high = (np.array(v) for v in env.client.getAABB(box))
        size = high - low
        # Keep the long side along x, as the grid assumes.
        yaw = 0.0 if size[0] >= size[1] else np.pi / 2
        place(env, box, (0.5 + dx, 0.25 + dy, 0.05 + 0.07 * (i // 6)), yaw)


def test_all_eighteen_boxes_on_the_pallet_is_a_success(env):
    env.reset(seed=1)
    boxes = sorted(env.movable)
    assert len(boxes) == 18
    # One box waits on the empty half of the table, the others are not in the workspace yet.
    waiting = [b for b in boxes if -0.5 < env.pose(b)[0][1] < 0 and env.pose(b)[0][0] < 1]
    assert len(waiting) == 1
    _fill(env, boxes)
    assert env.task.reward(env) == pytest.approx(1.0)
    assert env.task.done()


def test_one_box_off_the_pallet_earns_seventeen_eighteenths(env):
    env.reset(seed=3)
    boxes = sorted(env.movable)
    _fill(env, boxes)
    place(env, boxes[5], (0.5, -0.2, 0.05))
    # All 18 boxes have the same size, hence the same number of points.
    assert env.task.reward(env) == pytest.approx(17 / 18)
    assert not env.task.done()
