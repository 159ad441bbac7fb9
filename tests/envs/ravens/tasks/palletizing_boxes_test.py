import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens import cameras
from keras_suite.envs.ravens.tasks import palletizing_boxes

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


def test_oracle_replaces_drifted_boxes_first_and_never_picks_covered_ones(env):
    env.reset(seed=5)
    goal = env.task.goals[0]
    boxes = [b for b, _ in goal.objects]
    # Box 0 waits on the table; boxes 1 to 5 complete the bottom layer and box 6, the first of
    # the second layer, spans boxes 0 and 1 (layout footprints: box 6 covers x -9.5..-0.5 cm,
    # y -9.5..-3.8 cm of the pallet; box 1 covers x -2.8..2.8 cm, y -9.5..-0.5 cm).
    for i in range(1, 7):
        position = np.array(goal.targets[i][0])
        if i in (1, 4):  # both drift 2 cm; box 1 stays under box 6, box 4 is free
            position[0] += -0.02 if i == 1 else 0.02
        env.client.resetBasePositionAndOrientation(boxes[i], list(position), goal.targets[i][1])
    assert palletizing_boxes.is_covered(env, boxes[1], boxes)
    assert not palletizing_boxes.is_covered(env, boxes[4], boxes)
    assert not palletizing_boxes.is_covered(env, boxes[6], boxes)
    assert not palletizing_boxes.is_covered(env, boxes[0], boxes)
    order = [index for _, index, _ in env.task.unmatched(env, goal)]
    # The drifted free box comes before the waiting one; the covered one is never picked, and
    # boxes at their targets are not candidates.
    assert order[0] == 4
    assert 0 in order
    assert not {1, 2, 3, 5, 6} & set(order)
    action = env.task.oracle_action(env, env._observe(), np.random.default_rng(0))
    assert env.segmentation[cameras.position_to_pixel(action["pose0"][0])] == boxes[4]


def test_pallet_is_the_originals_slatted_pallet():
    # Original Ravens assets/pallet/pallet.obj at scale 0.25, posed at (0.5, 0.25, 0.02):
    # 30 x 25 x 3.75 cm, seven 5 mm top slats (3.5, 2.5, 2.5, 2.5, 2.5, 2.5, 3.5 cm wide).
    parts = palletizing_boxes.pallet_parts()
    low = np.min([np.subtract(pos, np.divide(size, 2)) for _, size, pos, _ in parts], axis=0)
    high = np.max([np.add(pos, np.divide(size, 2)) for _, size, pos, _ in parts], axis=0)
    np.testing.assert_allclose(low, (-0.15, -0.125, -0.01875))
    np.testing.assert_allclose(high, (0.15, 0.125, 0.01875))
    top = sorted(size[0] for _, size, pos, _ in parts if pos[2] > 0.01)
    np.testing.assert_allclose(top, [0.025] * 5 + [0.035] * 2)
    assert palletizing_boxes.PALLET_POSE[0][2] + high[2] == pytest.approx(0.03875)


def test_object_classes_and_box_shades(env):
    env.reset(seed=0)
    classes = env.task.object_classes
    assert len(classes["pallet"]) == 1 and len(classes["box"]) == 18
    assert set(classes["box"]) == env.movable
    # Boxes are brown (156, 117, 95) / 255 times a shade in [0.5, 1.5) (original Ravens
    # tasks/task.py, color_random_brown).
    for box in classes["box"]:
        rgb = np.array(env.client.getVisualShapeData(box)[0][7][:3])
        shade = rgb[2] / (95 / 255)
        assert 0.5 <= shade < 1.5
        np.testing.assert_allclose(np.clip(np.array([156, 117, 95]) / 255 * shade, 0, 1), rgb)
