import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens.tasks.task import Task

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


def test_the_oracle_places_again_a_box_that_overhangs_the_container(env):
    _, _, boxes = _scene(env, 1)
    goal = env.task.goals[0]
    for (box, _), target in zip(goal.objects, goal.targets):
        env.client.resetBasePositionAndOrientation(box, list(target[0]), list(target[1]))
    assert env.task.goal_score(env, goal) == pytest.approx(1.0)
    assert env.task.unmatched(env, goal) == []
    # The largest box, turned 45 degrees on its target: within the 1 cm position tolerance
    # (rotation is free for boxes), but its corners overhang the container.
    areas = [np.prod(np.ptp(goal.points[box], axis=0)[:2]) for box, _ in goal.objects]
    index = int(np.argmax(areas))
    box, target = goal.objects[index][0], goal.targets[index]
    yaw = 2 * np.arctan2(target[1][2], target[1][3]) + np.pi / 4
    place(env, box, target[0], yaw)
    assert env.task.goal_score(env, goal) < 1.0
    assert [i for _, i, _ in Task.unmatched(env.task, env, goal)] == []
    assert [i for _, i, _ in env.task.unmatched(env, goal)] == [index]


def test_container_is_the_originals_open_box(env):
    position, yaw, boxes = _scene(env, 0)
    classes = env.task.object_classes
    (container,) = classes["container"]
    assert classes["box"] == boxes
    # Original Ravens assets/container/container-template.urdf: a 2 mm floor and 2 mm walls
    # centred on the outline of the container (5 to 30 cm a side, 5 cm tall).
    size = env.task.goals[0].zones[0][1]
    assert 0.05 <= size[0] <= 0.3 and 0.05 <= size[1] <= 0.3 and size[2] == 0.05
    shapes = env.client.getVisualShapeData(container)
    dims = sorted(tuple(np.round(s[3], 6)) for s in shapes)
    expected = [
        (size[0], size[1], 0.002),
        (size[0], 0.002, 0.05),
        (size[0], 0.002, 0.05),
        (0.002, size[1], 0.05),
        (0.002, size[1], 0.05),
    ]
    np.testing.assert_allclose(dims, sorted(np.round(expected, 6).tolist()))
    low, high = (np.array(v) for v in env.client.getAABB(container))
    assert high[2] == pytest.approx(0.05, abs=1e-3)
    np.testing.assert_allclose(
        env.client.getVisualShapeData(container)[0][7][:3],
        (156 / 255, 117 / 255, 95 / 255),
        atol=1e-3,
    )
