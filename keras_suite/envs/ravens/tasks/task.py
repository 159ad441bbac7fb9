"""The base class of Ravens tasks: goals, rewards, success and the generic oracle."""

import dataclasses

import numpy as np

from keras_suite.envs.ravens import cameras
from keras_suite.envs.ravens.arm import yaw_of


def erode(mask, iterations):
    """Binary erosion with a 3 x 3 cross: keeps pixels whose 4 neighbours are all set."""
    mask = np.asarray(mask, dtype=bool)
    for _ in range(iterations):
        padded = np.pad(mask, 1)
        mask = mask & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask


def quat_from_yaw(yaw):
    return (0.0, 0.0, float(np.sin(yaw / 2)), float(np.cos(yaw / 2)))


def transform(pose, point):
    """Applies the rigid transform `pose = (position, quaternion)` to a 3-D `point`."""
    rotation = _rotation_matrix(pose[1])
    return rotation @ np.asarray(point, dtype=np.float64) + np.asarray(pose[0], dtype=np.float64)


def multiply(pose_a, pose_b):
    """The composition `pose_a * pose_b` of two `(position, quaternion)` poses."""
    rotation = _rotation_matrix(pose_a[1]) @ _rotation_matrix(pose_b[1])
    return transform(pose_a, pose_b[0]), _quaternion(rotation)


def invert(pose):
    rotation = _rotation_matrix(pose[1]).T
    return -rotation @ np.asarray(pose[0], dtype=np.float64), _quaternion(rotation)


def _rotation_matrix(quaternion):
    x, y, z, w = (float(v) for v in quaternion)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _quaternion(matrix):
    m = matrix
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0:
        s = 0.5 / np.sqrt(trace + 1.0)
        w, x, y, z = (
            0.25 / s,
            (m[2, 1] - m[1, 2]) * s,
            (m[0, 2] - m[2, 0]) * s,
            (m[1, 0] - m[0, 1]) * s,
        )
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        w, x, y, z = (
            (m[2, 1] - m[1, 2]) / s,
            0.25 * s,
            (m[0, 1] + m[1, 0]) / s,
            (m[0, 2] + m[2, 0]) / s,
        )
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        w, x, y, z = (
            (m[0, 2] - m[2, 0]) / s,
            (m[0, 1] + m[1, 0]) / s,
            0.25 * s,
            (m[1, 2] + m[2, 1]) / s,
        )
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        w, x, y, z = (
            (m[1, 0] - m[0, 1]) / s,
            (m[0, 2] + m[2, 0]) / s,
            (m[1, 2] + m[2, 1]) / s,
            0.25 * s,
        )
    return np.array([x, y, z, w])


def _max_matching(edges):
    """Size of a maximum bipartite matching; `edges[i]` lists the targets object `i` may take."""
    owner = {}

    def augment(i, seen):
        for j in edges[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return sum(augment(i, set()) for i in range(len(edges)))


@dataclasses.dataclass
class Goal:
    """One step of a task's goal sequence (the Ravens goal tuple, named).

    Args:
        objects: list of `(body_id, symmetry)`; `symmetry` is the rotation (radians) under which
            the object looks the same, 0 for rotation-free (round) objects.
        matches: `(len(objects), len(targets))` 0/1 array: which object may go to which target.
        targets: list of target poses `(position, quaternion)`.
        replace: whether several objects may share one target.
        rotations: whether the placing rotation matters (the oracle rotates the object).
        metric: `"pose"` (objects at targets within `pos_eps`/`rot_eps`) or `"zone"` (the share
            of each object's points inside the zone boxes).
        zones: for `"zone"`: a list of `(pose, size)` boxes.
        points: for `"zone"`: `{body_id: (n, 3) points in the body frame}`.
        max_reward: this step's share of the episode reward (the shares sum to 1).
    """

    objects: list
    matches: np.ndarray
    targets: list
    replace: bool = False
    rotations: bool = True
    metric: str = "pose"
    zones: list = None
    points: dict = None
    max_reward: float = 1.0


class Task:
    """A Ravens task: builds its scene, lists its goals, scores progress and plans the oracle.

    Subclasses set `name`, `max_steps` (Ravens' step limit) and implement `build(env, rng)`,
    which adds the objects through `env`, files each under its class with `classify`, and
    appends `Goal`s to `self.goals`.

    After `reset`, `object_classes` maps each object class to its body ids, e.g.
    `{"block": [5], "fixture": [6]}`; bodies added later (`after_step`) are filed as they come.
    """

    name = None
    max_steps = 10
    tool = "suction"
    pos_eps = 0.01
    rot_eps = np.deg2rad(15)
    #: Height of the tool tip while carrying, metres above the higher of pick and place
    #: (`None`: a safe height over every object).
    carry_height = None
    #: Tool speed (m/s) while carrying.
    carry_speed = 1.0
    #: Pixels the oracle keeps off an object's visible edge when it samples a pick point.
    pick_erosion = 2
    #: Whether `RavensEnv.reset` lets the scene come to rest before its first observation.
    #: Original Ravens does not step the physics there (its objects start at rest), so a
    #: task that lays objects down above their resting place shows them so at first.
    settle_on_reset = True

    def __init__(self):
        self.goals = []
        self.progress = 0.0
        self.rewarded = 0.0
        self.object_classes = {}

    # ------------------------------------------------------------------ episode

    def reset(self, env, rng):
        self.goals = []
        self.progress = 0.0
        self.rewarded = 0.0
        self.object_classes = {}
        self.build(env, rng)

    def classify(self, name, body):
        """Files `body` under the object class `name` of `object_classes`; returns `body`."""
        self.object_classes.setdefault(name, []).append(body)
        return body

    def build(self, env, rng):
        raise NotImplementedError

    def after_step(self, env, rng):
        """Hook run after every action, before the reward (palletizing spawns boxes here)."""

    # ------------------------------------------------------------------ scoring

    def is_match(self, pose, target, symmetry):
        """Whether `pose` is within `pos_eps` (in x, y) and `rot_eps` (yaw, modulo symmetry)."""
        distance = np.linalg.norm(np.asarray(pose[0][:2]) - np.asarray(target[0][:2]))
        angle = 0.0
        if symmetry > 0:
            angle = abs(yaw_of(pose[1]) - yaw_of(target[1])) % symmetry
            angle = min(angle, symmetry - angle)
        return distance < self.pos_eps and angle < self.rot_eps

    def goal_score(self, env, goal):
        """The reward earned so far on `goal`, between 0 and `goal.max_reward`."""
        if goal.metric == "pose":
            edges = []
            for i, (body, symmetry) in enumerate(goal.objects):
                pose = env.pose(body)
                edges.append(
                    [
                        j
                        for j in np.flatnonzero(goal.matches[i])
                        if self.is_match(pose, goal.targets[j], symmetry)
                    ]
                )
            if goal.replace:
                matched = sum(1 for targets in edges if targets)
            else:  # each target takes one object: count a maximum matching
                matched = _max_matching(edges)
            return goal.max_reward * matched / len(goal.objects)
        inside, total = 0, 0
        for body, points in goal.points.items():
            world = np.asarray(points) @ _rotation_matrix(env.pose(body)[1]).T + env.pose(body)[0]
            for zone_pose, zone_size in goal.zones:
                local = (world - zone_pose[0]) @ _rotation_matrix(zone_pose[1])
                ok = (
                    (np.abs(local[:, 0]) < zone_size[0] / 2)
                    & (np.abs(local[:, 1]) < zone_size[1] / 2)
                    & (world[:, 2] < cameras.BOUNDS[2, 1])
                )
                inside += int(ok.sum())
            total += len(points)
        return goal.max_reward * inside / max(total, 1)

    def reward(self, env):
        """The reward of the last action: the change of progress; completed goals are popped."""
        if not self.goals:
            return 0.0
        goal = self.goals[0]
        score = self.goal_score(env, goal)
        reward = self.progress + score - self.rewarded
        self.rewarded = self.progress + score
        if abs(goal.max_reward - score) < 0.01:
            self.progress += goal.max_reward
            self.goals.pop(0)
            if self.goals:  # a later goal may be met already by the same action
                reward += self.reward(env)
        return reward

    def done(self):
        """Success: every goal is met (the rewards earned sum to 1)."""
        return self.rewarded > 0.99

    # ------------------------------------------------------------------ oracle

    def unmatched(self, env, goal):
        """Indices of objects still away from every target they may take, and their targets."""
        matches = goal.matches.copy()
        if not goal.replace:
            for i, (body, symmetry) in enumerate(goal.objects):
                pose = env.pose(body)
                for j in np.flatnonzero(matches[i]):
                    if self.is_match(pose, goal.targets[j], symmetry):
                        matches[i, :] = 0
                        matches[:, j] = 0
        candidates = []
        for i, (body, _) in enumerate(goal.objects):
            targets = np.flatnonzero(matches[i])
            if len(targets) == 0:
                continue
            position = np.asarray(env.pose(body)[0])
            distances = [np.linalg.norm(position - goal.targets[j][0]) for j in targets]
            nearest = int(np.argmin(distances))
            if distances[nearest] > 0:
                candidates.append((distances[nearest], i, int(targets[nearest])))
        candidates.sort(reverse=True)  # farthest from its nearest target first
        return candidates

    def oracle_action(self, env, observation, rng):
        """The expert's next action for the first goal, or `None` when nothing is left to do.

        The object farthest from its nearest free target is picked at a pixel drawn uniformly
        from its visible surface in the fused height map; the place pose moves the object frame
        onto the target with the same pick-point offset (and rotation, unless `rotations` is off).
        """
        if not self.goals:
            return None
        return self.plan_pick_and_place(env, observation, rng, self.goals[0])

    def plan_pick_and_place(self, env, observation, rng, goal):
        """The generic oracle's action for `goal` (see `oracle_action`), or `None`."""
        segmap, heightmap = env.segmentation, observation["heightmap"]
        for _, index, target in self.unmatched(env, goal):
            body = goal.objects[index][0]
            pixels = np.argwhere(erode(segmap == body, self.pick_erosion))
            if len(pixels) == 0:
                pixels = np.argwhere(segmap == body)
            if len(pixels) == 0:
                continue
            pick_position = cameras.pixel_to_position(pixels[rng.integers(len(pixels))], heightmap)
            pick_pose = (pick_position, np.array([0.0, 0.0, 0.0, 1.0]))
            object_pose = env.pose(body)
            object_pose = (object_pose[0], quat_from_yaw(yaw_of(object_pose[1])))
            pick_to_object = multiply(invert(pick_pose), object_pose)
            place_pose = multiply(goal.targets[target], invert(pick_to_object))
            if not goal.rotations:
                place_pose = (place_pose[0], np.array([0.0, 0.0, 0.0, 1.0]))
            return {"pose0": pick_pose, "pose1": (np.asarray(place_pose[0]), place_pose[1])}
        return None
