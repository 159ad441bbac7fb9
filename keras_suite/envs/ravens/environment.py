"""`RavensEnv`: a gymnasium environment running one Ravens task in its own pybullet client."""

import gymnasium
import numpy as np
import pybullet as p
from pybullet_utils import bullet_client

from keras_suite.envs.ravens import cameras
from keras_suite.envs.ravens.arm import HOME, Arm, yaw_of
from keras_suite.envs.ravens.workspace import BOUNDS, HEIGHTMAP_SHAPE, TABLE_COLOR

_SETTLE_STEPS = 240
#: Height of the spatula's approach to and retreat from a push, metres.
_PUSH_CLEARANCE = 0.06


class RavensEnv(gymnasium.Env):
    """A Ravens tabletop rearrangement task with a simulated arm, cameras and a height map.

    Ravens (Zeng et al., "Transporter Networks", CoRL 2020) poses vision-based rearrangement
    tasks on a 0.5 x 1 m workspace. Each environment owns a headless pybullet client, so several
    can live in one process. Seeds follow Ravens: even seeds make training scenes, odd seeds test
    scenes (`env.mode`).

    Observation (a dict):
        `color`: uint8 `(3, 480, 640, 3)` images of the front, left and right cameras;
        `depth`: float32 `(3, 480, 640)` metres; `intrinsics`: float32 `(3, 3, 3)`;
        `camera_poses`: float32 `(3, 4, 4)` camera-to-world transforms;
        `colormap`: uint8 `(320, 160, 3)` and `heightmap`: float32 `(320, 160)`, the three views
        fused into a top-down map of the workspace (x 0.25..0.75 m along columns, y -0.5..0.5 m
        along rows, 3.125 mm pixels, heights in metres above the table).

    Action: `{"pose0": (position, quaternion), "pose1": (position, quaternion)}`. With the
    suction tool the arm picks at `pose0` and places at `pose1`, turning the object by the yaw
    from `pose0` to `pose1`; with the spatula (sweeping) it pushes from `pose0` to `pose1`.
    A malformed action raises `ValueError`; an action outside the workspace is a failed step
    (nothing moves; `info["action_error"]` says why).

    Rewards are the task's progress increments and sum to 1 when `info["success"]`; an episode
    terminates on success and is truncated after the task's step limit.

    Args:
        task: a `Task` instance.
        max_steps: overrides the task's step limit.
        camera_list: the cameras to render (default: Ravens' three).
        time_step: the physics time step in seconds. 1/120 s keeps stacks and the rope stable
            at half the cost of Ravens' 1/240 s.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self, task, max_steps=None, camera_list=cameras.DEFAULT_CAMERAS, time_step=1.0 / 120.0
    ):
        self.task = task
        self.time_step = float(time_step)
        self.max_steps = int(max_steps or task.max_steps)
        self.camera_list = tuple(camera_list)
        self.client = bullet_client.BulletClient(connection_mode=p.DIRECT)
        self.render_mode = "rgb_array"
        n = len(self.camera_list)
        h, w = self.camera_list[0].image_size
        rows, cols = HEIGHTMAP_SHAPE
        self.observation_space = gymnasium.spaces.Dict(
            {
                "color": gymnasium.spaces.Box(0, 255, (n, h, w, 3), np.uint8),
                "depth": gymnasium.spaces.Box(0.0, 10.0, (n, h, w), np.float32),
                "intrinsics": gymnasium.spaces.Box(-np.inf, np.inf, (n, 3, 3), np.float32),
                "camera_poses": gymnasium.spaces.Box(-np.inf, np.inf, (n, 4, 4), np.float32),
                "colormap": gymnasium.spaces.Box(0, 255, (rows, cols, 3), np.uint8),
                "heightmap": gymnasium.spaces.Box(0.0, 1.0, (rows, cols), np.float32),
            }
        )
        pose_space = gymnasium.spaces.Tuple(
            (
                gymnasium.spaces.Box(-1.0, 1.0, (3,), np.float32),
                gymnasium.spaces.Box(-1.0, 1.0, (4,), np.float32),
            )
        )
        self.action_space = gymnasium.spaces.Dict({"pose0": pose_space, "pose1": pose_space})
        self.arm = None
        self.movable = set()
        self.segmentation = None
        self.mode = "train"
        self.steps = 0
        self.seed = None
        self.episodes = 0
        self._last_color = None

    # ------------------------------------------------------------------ scene helpers

    def pose(self, body):
        """`(position, quaternion)` of a body, as numpy arrays."""
        position, orientation = self.client.getBasePositionAndOrientation(body)
        return np.array(position), np.array(orientation)

    def add_movable(self, body):
        self.movable.add(body)
        return body

    def random_pose(self, size, rng, margin=0.01, yaw=None, required=True):
        """A random free pose for an object of footprint `size` (x, y[, z]) in the workspace.

        The object's circumscribed circle is kept inside the workspace and off every earlier
        footprint; its centre sits at half its height. Returns `None` when no room is found and
        `required` is False (e.g. for optional distractors).
        """
        radius = float(np.hypot(size[0], size[1])) / 2
        bounds = cameras.BOUNDS
        for _ in range(500):
            x = rng.uniform(bounds[0, 0] + radius + margin, bounds[0, 1] - radius - margin)
            y = rng.uniform(bounds[1, 0] + radius + margin, bounds[1, 1] - radius - margin)
            if all(np.hypot(x - fx, y - fy) > radius + fr + margin for fx, fy, fr in self._free):
                self._free.append((x, y, radius))
                theta = rng.uniform(0, 2 * np.pi) if yaw is None else yaw
                height = size[2] / 2 if len(size) > 2 else 0.0
                return np.array([x, y, height]), np.array(
                    [0.0, 0.0, np.sin(theta / 2), np.cos(theta / 2)]
                )
        if not required:
            return None
        raise RuntimeError(f"No free space left for an object of size {tuple(size)}.")

    def reserve(self, position, size):
        """Marks a footprint as taken, for objects placed without `random_pose`."""
        self._free.append((position[0], position[1], float(np.hypot(size[0], size[1])) / 2))

    # ------------------------------------------------------------------ gymnasium API

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.seed = seed
        self.episodes += 1
        self.mode = "train" if seed is None or seed % 2 == 0 else "test"
        c = self.client
        c.resetSimulation()
        c.setGravity(0, 0, -9.8)
        c.setPhysicsEngineParameter(numSolverIterations=20, fixedTimeStep=self.time_step)
        # An infinite collision plane drawn as the workspace only: the 0.5 x 1 m dark grey
        # table top of original Ravens' assets/ur5/workspace.urdf (plane.obj scaled to the
        # workspace, rgba 0.2 0.2 0.2). The fused maps see nothing else; drawing the floor
        # around it (assets/plane) would double the rendering time.
        plane = c.createCollisionShape(p.GEOM_PLANE)
        table = c.createVisualShape(
            p.GEOM_BOX,
            halfExtents=[*(BOUNDS[:2, 1] - BOUNDS[:2, 0]) / 2, 0.0005],
            visualFramePosition=[BOUNDS[0].mean(), BOUNDS[1].mean(), -0.0005],
            rgbaColor=TABLE_COLOR,
        )
        self.plane = c.createMultiBody(0, plane, table, [0, 0, 0])
        c.changeDynamics(self.plane, -1, lateralFriction=0.8)
        self.movable = set()
        self._free = []
        self.arm = Arm(c, tool=self.task.tool, time_step=self.time_step)
        self.steps = 0
        self.task.reset(self, self.np_random)
        if self.task.settle_on_reset:
            self.settle()
        observation = self._observe()
        return observation, self._info(None)

    def step(self, action):
        pose0, pose1 = _parse_action(action)
        error = _outside_workspace(pose0, pose1)
        if error is None:
            if self.task.tool == "suction":
                ok = self.pick_and_place(pose0, pose1)
            else:
                ok = self.push(pose0, pose1)
            if not ok:
                error = "the motion did not complete (nothing was grasped or a joint got stuck)"
            self.settle()
        self.task.after_step(self, self.np_random)
        reward = float(self.task.reward(self))
        self.steps += 1
        observation = self._observe()
        info = self._info(error)
        terminated = bool(info["success"])
        truncated = not terminated and self.steps >= self.max_steps
        return observation, reward, terminated, truncated, info

    def render(self):
        """The front camera's last colour image."""
        return self._last_color

    def close(self):
        if self.client is not None:
            self.client.disconnect()
            self.client._client = -1  # tells BulletClient.__del__ not to disconnect again
            self.client = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # at interpreter exit pybullet may be gone already
            pass

    # ------------------------------------------------------------------ primitives

    def pick_and_place(self, pose0, pose1):
        """Suction pick at `pose0`, place at `pose1`; returns whether something was placed."""
        arm = self.arm
        (p0, yaw0), (p1, yaw1) = pose0, pose1
        if self.task.carry_height is None:
            carry = max(0.32, p0[2] + 0.15, p1[2] + 0.15)
        else:
            carry = max(p0[2], p1[2]) + self.task.carry_height
        carry = min(carry, 0.5)
        arm.move_tip((p0[0], p0[1], max(carry, p0[2] + 0.05)), yaw0)
        arm.move_tip((p0[0], p0[1], p0[2] + 0.03), yaw0, speed=0.5)
        arm.move_tip((p0[0], p0[1], max(p0[2] - 0.03, -0.005)), yaw0, 0.15, stop_on_contact=True)
        held = arm.grasp(self.movable)
        if held is None:
            arm.go_home()
            return False
        # How far the held body reaches below the tip: a place height read from the height map
        # under the place pixel (a Transporter's) is the surface the body lands on, not the
        # tip's height there.
        hang = arm.tip_pose()[0][2] - self.client.getAABB(held)[0][2]
        speed = self.task.carry_speed
        arm.move_tip((p0[0], p0[1], carry), yaw0, speed=speed)
        arm.move_tip((p1[0], p1[1], carry), yaw1, speed=speed)
        approach = min(carry, p1[2] + hang + 0.02)
        arm.move_tip((p1[0], p1[1], approach), yaw1, min(speed, 0.5), stop_on_contact=True)
        arm.move_tip((p1[0], p1[1], max(p1[2] - 0.01, -0.005)), yaw1, 0.1, stop_on_contact=True)
        arm.release()
        arm.go_home()
        return True

    def push(self, pose0, pose1):
        """Spatula push along the line from `pose0` to `pose1`, the blade across the line."""
        arm = self.arm
        (p0, _), (p1, _) = pose0, pose1
        direction = np.asarray(p1[:2]) - np.asarray(p0[:2])
        length = float(np.linalg.norm(direction))
        if length < 1e-3:
            return False
        yaw = float(np.arctan2(direction[1], direction[0]))
        z = 0.003
        # Nothing in a pushing task stands higher than a few centimetres: approach and leave
        # low, and swing home in one motion.
        arm.move_tip((p0[0], p0[1], _PUSH_CLEARANCE), yaw)
        arm.move_tip((p0[0], p0[1], z), yaw, speed=0.5)
        arm.follow_line((p0[0], p0[1], z), (p1[0], p1[1], z), yaw, speed=0.3)
        arm.move_tip((p1[0], p1[1], _PUSH_CLEARANCE), yaw)
        arm.move(HOME, speed=1.5)
        return True

    def settle(self, max_steps=_SETTLE_STEPS):
        """Steps until movable bodies are still (or `max_steps` run out)."""
        bodies = list(self.movable)
        for i in range(max_steps):
            self.client.stepSimulation()
            if i % 10 == 9:
                speeds = [np.linalg.norm(self.client.getBaseVelocity(b)[0]) for b in bodies]
                if not speeds or max(speeds) < 5e-3:
                    break

    # ------------------------------------------------------------------ observation

    def _observe(self):
        images = [cameras.render(self.client, camera) for camera in self.camera_list]
        colormap, heightmap, segmap = cameras.fuse_heightmaps(images, self.camera_list)
        self.segmentation = segmap
        self._last_color = images[0][0]
        return {
            "color": np.stack([image[0] for image in images]),
            "depth": np.stack([image[1] for image in images]).astype(np.float32),
            "intrinsics": np.stack([cam.intrinsic_matrix for cam in self.camera_list]),
            "camera_poses": np.stack([cam.pose_matrix for cam in self.camera_list]),
            "colormap": colormap,
            "heightmap": heightmap,
        }

    def _info(self, error):
        return {
            "success": bool(self.task.done()),
            "progress": float(self.task.rewarded),
            "steps": self.steps,
            "action_error": error,
            "seed": self.seed,
            "mode": self.mode,
        }


def _parse_action(action):
    if not isinstance(action, dict) or set(action) != {"pose0", "pose1"}:
        keys = sorted(action) if isinstance(action, dict) else type(action).__name__
        raise ValueError(
            "`action` must be a dict with keys 'pose0' and 'pose1', each a (position, "
            f"quaternion) pair. Received: {keys}"
        )
    poses = []
    for key in ("pose0", "pose1"):
        pose = action[key]
        try:
            position = np.asarray(pose[0], dtype=np.float64).reshape(3)
            quaternion = np.asarray(pose[1], dtype=np.float64).reshape(4)
            if len(pose) != 2:
                raise ValueError
        except (TypeError, ValueError, IndexError):
            raise ValueError(
                f"`action['{key}']` must be (position of 3 floats, quaternion of 4 floats). "
                f"Received: {pose!r}"
            ) from None
        if not (np.all(np.isfinite(position)) and np.all(np.isfinite(quaternion))):
            raise ValueError(f"`action['{key}']` must be finite. Received: {pose!r}")
        if np.linalg.norm(quaternion) < 1e-6:
            raise ValueError(f"`action['{key}']` has a zero quaternion. Received: {pose!r}")
        poses.append((position, yaw_of(quaternion / np.linalg.norm(quaternion))))
    return poses


def _outside_workspace(pose0, pose1, margin=0.02):
    bounds = cameras.BOUNDS
    for name, (position, _) in zip(("pose0", "pose1"), (pose0, pose1)):
        low = bounds[:, 0] - [margin, margin, margin]
        high = bounds[:, 1] + [margin, margin, 0.1]
        if np.any(position < low) or np.any(position > high):
            shown = ", ".join(f"{v:.3g}" for v in position)
            limits = ", ".join(f"{a} {lo:g}..{hi:g}" for a, (lo, hi) in zip("xyz", bounds))
            return f"{name} position ({shown}) is outside the workspace ({limits})"
    return None
