"""A procedural cylindrical robot arm with a suction cup or a spatula, driven through IK."""

import numpy as np
import pybullet as p

#: Height of the arm's shoulder (its horizontal beam) above the table, metres.
SHOULDER_HEIGHT = 0.62
#: Length of the tool below the quill, metres: the tool tip sits this far under the quill.
TOOL_LENGTH = 0.03
#: Reach limits of the radial slide, metres.
REACH_LIMITS = (0.12, 1.05)
#: Lowest and highest tool-tip heights, metres.
TIP_HEIGHT_LIMITS = (-0.01, 0.55)
#: Joint-space pose the arm returns to between actions: behind its base, out of the cameras' view.
HOME = np.array([np.pi, 0.3, SHOULDER_HEIGHT - 0.5 - TOOL_LENGTH, 0.0])

_YAW, _REACH, _QUILL, _WRIST = range(4)
_TOOL_LINK = 3


def _wrap(angle):
    return (angle + np.pi) % (2 * np.pi) - np.pi


def yaw_of(quaternion):
    """The rotation about the world z axis of an `(x, y, z, w)` quaternion, radians."""
    x, y, z, w = quaternion
    return float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


class Arm:
    """A four-joint cylindrical arm (yaw, radial slide, vertical quill, wrist yaw) with a tool.

    The arm stands at the world origin, its beam 0.62 m above the table, and reaches the Ravens
    workspace (x 0.25..0.75 m, y -0.5..0.5 m) from above, so a tool held vertically can take any
    position and any rotation about the vertical in the workspace. Inverse kinematics is closed
    form (`inverse_kinematics`); the joints are driven by pybullet position motors with speed
    limits, and the simulation is stepped until they arrive (or a step budget runs out, so a
    motion never hangs).

    The tool is a suction cup (`"suction"`: a contact makes a fixed constraint to the touched
    body, as a vacuum gripper would) or a spatula (`"spatula"`: a flat blade for pushing).

    Args:
        client: the environment's `BulletClient`.
        tool: `"suction"` or `"spatula"`.
        time_step: the simulation's time step in seconds (to size the motions' step budgets).
    """

    def __init__(self, client, tool="suction", time_step=1.0 / 120.0):
        if tool not in ("suction", "spatula"):
            raise ValueError(f"`tool` must be 'suction' or 'spatula'. Received: tool={tool!r}")
        self.client = client
        self.tool = tool
        self.time_step = time_step
        c = client
        column = c.createVisualShape(
            p.GEOM_CYLINDER,
            radius=0.05,
            length=SHOULDER_HEIGHT,
            visualFramePosition=[0, 0, SHOULDER_HEIGHT / 2],
            rgbaColor=[0.4, 0.4, 0.45, 1],
        )
        small = c.createCollisionShape(p.GEOM_SPHERE, radius=0.01)
        carriage = c.createVisualShape(p.GEOM_BOX, halfExtents=[0.05, 0.05, 0.03])
        beam = c.createVisualShape(
            p.GEOM_BOX,
            halfExtents=[0.45, 0.02, 0.02],
            visualFramePosition=[-0.43, 0, 0],
            rgbaColor=[0.9, 0.55, 0.1, 1],
        )
        quill_length = SHOULDER_HEIGHT - 0.02
        quill = c.createVisualShape(
            p.GEOM_CYLINDER,
            radius=0.012,
            length=quill_length,
            visualFramePosition=[0, 0, quill_length / 2],
            rgbaColor=[0.7, 0.7, 0.7, 1],
        )
        if tool == "suction":
            tool_collision = c.createCollisionShape(
                p.GEOM_CYLINDER,
                radius=0.008,
                height=TOOL_LENGTH,
                collisionFramePosition=[0, 0, TOOL_LENGTH / 2],
            )
            tool_visual = c.createVisualShape(
                p.GEOM_CYLINDER,
                radius=0.008,
                length=TOOL_LENGTH,
                visualFramePosition=[0, 0, TOOL_LENGTH / 2],
                rgbaColor=[0.15, 0.15, 0.15, 1],
            )
        else:
            half = [0.004, 0.06, TOOL_LENGTH / 2]
            tool_collision = c.createCollisionShape(
                p.GEOM_BOX, halfExtents=half, collisionFramePosition=[0, 0, TOOL_LENGTH / 2]
            )
            tool_visual = c.createVisualShape(
                p.GEOM_BOX,
                halfExtents=half,
                visualFramePosition=[0, 0, TOOL_LENGTH / 2],
                rgbaColor=[0.15, 0.15, 0.15, 1],
            )
        self.body = c.createMultiBody(
            baseMass=0,
            baseCollisionShapeIndex=-1,
            baseVisualShapeIndex=column,
            basePosition=[0, 0, 0],
            linkMasses=[1.0, 1.0, 0.5, 0.1],
            linkCollisionShapeIndices=[small, small, small, tool_collision],
            linkVisualShapeIndices=[carriage, beam, quill, tool_visual],
            linkPositions=[[0, 0, SHOULDER_HEIGHT], [0, 0, 0], [0, 0, 0], [0, 0, -TOOL_LENGTH]],
            linkOrientations=[[0, 0, 0, 1]] * 4,
            linkInertialFramePositions=[[0, 0, 0]] * 4,
            linkInertialFrameOrientations=[[0, 0, 0, 1]] * 4,
            linkParentIndices=[0, 1, 2, 3],
            linkJointTypes=[
                p.JOINT_REVOLUTE,
                p.JOINT_PRISMATIC,
                p.JOINT_PRISMATIC,
                p.JOINT_REVOLUTE,
            ],
            linkJointAxis=[[0, 0, 1], [1, 0, 0], [0, 0, -1], [0, 0, 1]],
        )
        for link in range(3):
            c.setCollisionFilterGroupMask(self.body, link, 0, 0)
        c.changeDynamics(self.body, _TOOL_LINK, lateralFriction=1.0)
        # Realistic inertias (the tiny collision spheres would give ~1e-5 kg m^2, which makes the
        # position motors oscillate once a held object adds its own inertia).
        for joint, inertia in enumerate([0.2, 0.1, 0.02, 0.005]):
            c.changeDynamics(
                self.body,
                joint,
                linearDamping=0,
                angularDamping=0,
                jointDamping=0,
                localInertiaDiagonal=[inertia] * 3,
            )
        self.held = None
        self._constraint = None
        self.reset()

    # ------------------------------------------------------------------ kinematics

    @staticmethod
    def inverse_kinematics(position, yaw=0.0):
        """Joint values that put the tool tip at `position` with the tool rotated by `yaw`.

        Returns:
            `[base_yaw, reach, quill, wrist]`, or raises `ValueError` when out of reach.
        """
        x, y, z = (float(v) for v in position)
        reach = float(np.hypot(x, y))
        if not REACH_LIMITS[0] <= reach <= REACH_LIMITS[1]:
            raise ValueError(
                f"The position is out of the arm's reach ({REACH_LIMITS[0]}..{REACH_LIMITS[1]} m "
                f"from its base). Received: position={tuple(position)}"
            )
        if not TIP_HEIGHT_LIMITS[0] <= z <= TIP_HEIGHT_LIMITS[1]:
            raise ValueError(
                f"The height is out of the arm's range {TIP_HEIGHT_LIMITS} m. "
                f"Received: position={tuple(position)}"
            )
        base_yaw = float(np.arctan2(y, x))
        quill = SHOULDER_HEIGHT - TOOL_LENGTH - z
        return np.array([base_yaw, reach, quill, _wrap(yaw - base_yaw)])

    @staticmethod
    def forward_kinematics(joints):
        """Tool-tip position and yaw for joint values `[base_yaw, reach, quill, wrist]`."""
        base_yaw, reach, quill, wrist = joints
        position = np.array(
            [
                reach * np.cos(base_yaw),
                reach * np.sin(base_yaw),
                SHOULDER_HEIGHT - TOOL_LENGTH - quill,
            ]
        )
        return position, _wrap(base_yaw + wrist)

    def joints(self):
        return np.array([s[0] for s in self.client.getJointStates(self.body, range(4))])

    def tip_pose(self):
        """The tool tip's world position and yaw, from the simulated link state."""
        state = self.client.getLinkState(self.body, _TOOL_LINK, computeForwardKinematics=True)
        return np.array(state[4]), yaw_of(state[5])

    # ------------------------------------------------------------------ motion

    def reset(self):
        """Puts the arm at `HOME` instantly (only at episode reset) and drops any held body."""
        self.release()
        for joint, value in enumerate(HOME):
            self.client.resetJointState(self.body, joint, value)
        self._command(HOME, np.full(4, 1.0))

    def _command(self, target, speeds):
        for joint in range(4):
            self.client.setJointMotorControl2(
                self.body,
                joint,
                p.POSITION_CONTROL,
                targetPosition=float(target[joint]),
                force=400.0,
                maxVelocity=float(speeds[joint]),
                positionGain=0.3,
            )

    def move(self, target, speed=1.0, stop_on_contact=False):
        """Drives the joints to `target`; returns `True` on arrival or contact.

        Args:
            target: joint values `[base_yaw, reach, quill, wrist]`.
            speed: tool-tip speed scale in m/s (the base turns at `3 * speed` rad/s).
            stop_on_contact: stop as soon as the tool (or a held body) touches something.

        Returns:
            `True` if the joints arrived (or contact stopped the motion when asked), `False`
            if the step budget ran out first.
        """
        current = self.joints()
        target = np.array(target, dtype=np.float64)
        for joint in (_YAW, _WRIST):  # turn the short way round
            target[joint] = current[joint] + _wrap(target[joint] - current[joint])
        delta = np.abs(target - current)
        rates = np.array([3.0 * speed, speed, speed, 6.0 * speed])
        duration = max(float(np.max(delta / rates)), 1e-3)
        # Joints share the motion's duration so the tool moves along a smooth path.
        speeds = np.maximum(delta / duration, 1e-3) * 1.05
        self._command(target, speeds)
        budget = int(duration / self.time_step) + int(2.0 / self.time_step)
        for _ in range(budget):
            self.client.stepSimulation()
            if stop_on_contact and self.in_contact():
                self._command(self.joints(), np.full(4, 1.0))
                return True
            error = np.abs(self.joints() - target)
            if np.all(error < np.array([2e-3, 1e-3, 1e-3, 2e-3])):
                return True
        return False

    def follow_line(self, start, end, yaw, speed=0.3):
        """Moves the tool tip along the straight segment `start` -> `end` at `speed` m/s.

        The joints track a target that slides along the segment every simulation step (so the
        tip does not stop at waypoints); returns whether the tip arrived at `end`.
        """
        start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
        n = max(int(np.linalg.norm(end - start) / (speed * self.time_step)), 1)
        fast = np.array([6.0, 2.0, 2.0, 12.0])
        for t in np.linspace(0.0, 1.0, n + 1)[1:]:
            target = self.inverse_kinematics(start + t * (end - start), yaw)
            current = self.joints()
            for joint in (_YAW, _WRIST):
                target[joint] = current[joint] + _wrap(target[joint] - current[joint])
            self._command(target, fast)
            self.client.stepSimulation()
        return self.move_tip(end, yaw, speed)

    def move_tip(self, position, yaw, speed=1.0, stop_on_contact=False):
        """Moves the tool tip to `position` with rotation `yaw` (see `move`)."""
        return self.move(self.inverse_kinematics(position, yaw), speed, stop_on_contact)

    def go_home(self):
        current = self.joints()
        lifted = current.copy()
        lifted[_QUILL] = HOME[_QUILL]
        self.move(lifted, speed=1.0)
        return self.move(HOME, speed=1.5)

    # ------------------------------------------------------------------ suction

    def contacts(self):
        """Bodies the tool (or the body it holds) touches, excluding each other."""
        touched = {pt[2] for pt in self.client.getContactPoints(bodyA=self.body, linkIndexA=3)}
        if self.held is not None:
            touched |= {pt[2] for pt in self.client.getContactPoints(bodyA=self.held)}
            touched.discard(self.body)
            touched.discard(self.held)
        return touched

    def in_contact(self):
        return bool(self.contacts())

    def grasp(self, movable):
        """Turns suction on: holds the touched body if it is in `movable`; returns it or None."""
        if self.tool != "suction" or self.held is not None:
            return self.held
        points = self.client.getContactPoints(bodyA=self.body, linkIndexA=_TOOL_LINK)
        candidates = [pt[2] for pt in points if pt[2] in movable]
        if not candidates:
            return None
        body = candidates[0]
        tip = self.client.getLinkState(self.body, _TOOL_LINK, computeForwardKinematics=True)
        body_pose = self.client.getBasePositionAndOrientation(body)
        tip_to_world = self.client.invertTransform(tip[4], tip[5])
        rel_pos, rel_orn = self.client.multiplyTransforms(*tip_to_world, *body_pose)
        self._constraint = self.client.createConstraint(
            parentBodyUniqueId=self.body,
            parentLinkIndex=_TOOL_LINK,
            childBodyUniqueId=body,
            childLinkIndex=-1,
            jointType=p.JOINT_FIXED,
            jointAxis=(0, 0, 0),
            parentFramePosition=rel_pos,
            childFramePosition=(0, 0, 0),
            parentFrameOrientation=rel_orn,
            childFrameOrientation=(0, 0, 0, 1),
        )
        self.client.changeConstraint(self._constraint, maxForce=200)
        self.held = body
        return body

    def release(self):
        """Turns suction off."""
        if self._constraint is not None:
            self.client.removeConstraint(self._constraint)
        self._constraint = None
        self.held = None
