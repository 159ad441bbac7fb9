"""Simulated RGB-D cameras and the fused top-down colour + height map of Ravens."""

import dataclasses

import numpy as np
import pybullet as p

from keras_suite.envs.ravens.workspace import BOUNDS, PIXEL_SIZE


@dataclasses.dataclass(frozen=True)
class Camera:
    """A pinhole RGB-D camera: image size, intrinsics and pose in the world.

    Args:
        name: a short name (`"front"`, `"left"`, `"right"`).
        image_size: `(height, width)` in pixels.
        intrinsics: the 3 x 3 camera matrix, flattened row-major.
        position: the optical centre in world coordinates (metres).
        rotation: the camera orientation as a quaternion `(x, y, z, w)`; the camera looks along
            its +z axis with +y pointing down the image.
        zrange: near and far clipping distances in metres.
    """

    name: str
    image_size: tuple
    intrinsics: tuple
    position: tuple
    rotation: tuple
    zrange: tuple = (0.01, 10.0)

    @property
    def intrinsic_matrix(self):
        return np.array(self.intrinsics, dtype=np.float32).reshape(3, 3)

    @property
    def pose_matrix(self):
        """The 4 x 4 camera-to-world transform."""
        pose = np.eye(4, dtype=np.float32)
        pose[:3, :3] = np.array(p.getMatrixFromQuaternion(self.rotation)).reshape(3, 3)
        pose[:3, 3] = self.position
        return pose


def _quat(euler):
    return tuple(p.getQuaternionFromEuler(euler))


_INTRINSICS = (450.0, 0.0, 320.0, 0.0, 450.0, 240.0, 0.0, 0.0, 1.0)
#: The three RealSense-D415-like cameras of Ravens (front, left, right), 480 x 640 pixels.
DEFAULT_CAMERAS = (
    Camera(
        "front", (480, 640), _INTRINSICS, (1.0, 0.0, 0.75), _quat((np.pi / 4, np.pi, -np.pi / 2))
    ),
    Camera(
        "left", (480, 640), _INTRINSICS, (0.0, 0.5, 0.75), _quat((np.pi / 4.5, np.pi, np.pi / 4))
    ),
    Camera(
        "right",
        (480, 640),
        _INTRINSICS,
        (0.0, -0.5, 0.75),
        _quat((np.pi / 4.5, np.pi, 3 * np.pi / 4)),
    ),
)


def render(client, camera, segmentation=True, shadow=True):
    """Renders one camera with pybullet's TinyRenderer (headless).

    Args:
        client: a `BulletClient`.
        camera: a `Camera`.
        segmentation: whether to return the per-pixel body ids.
        shadow: whether bodies cast shadows, under pybullet's default light (original Ravens'
            environment.py renders with `shadow=1` and the default light).

    Returns:
        `(color, depth, segm)`: uint8 `(H, W, 3)`, float32 `(H, W)` metres along the optical
        axis, int32 `(H, W)` body ids (-1 for background) or `None`.
    """
    height, width = camera.image_size
    rotation = np.array(p.getMatrixFromQuaternion(camera.rotation)).reshape(3, 3)
    position = np.asarray(camera.position)
    target = position + rotation @ np.array([0.0, 0.0, 1.0])
    up = rotation @ np.array([0.0, -1.0, 0.0])
    view = client.computeViewMatrix(position, target, up)
    focal = camera.intrinsics[0]
    fov = np.degrees(2 * np.arctan((height / 2) / focal))
    near, far = camera.zrange
    projection = client.computeProjectionMatrixFOV(fov, width / height, near, far)
    flags = 0 if segmentation else p.ER_NO_SEGMENTATION_MASK
    _, _, color, zbuffer, segm = client.getCameraImage(
        width,
        height,
        view,
        projection,
        renderer=p.ER_TINY_RENDERER,
        flags=flags,
        shadow=int(shadow),
    )
    color = np.asarray(color, dtype=np.uint8).reshape(height, width, 4)[..., :3]
    zbuffer = np.asarray(zbuffer, dtype=np.float32).reshape(height, width)
    depth = np.clip(far * near / (far - (far - near) * zbuffer), near, far)
    segm = np.asarray(segm, dtype=np.int32).reshape(height, width) if segmentation else None
    return color, depth, segm


def point_cloud(depth, camera):
    """Back-projects a depth image to world points, `(H, W, 3)` float32."""
    height, width = depth.shape
    k = camera.intrinsic_matrix
    u, v = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    x = (u - k[0, 2]) * depth / k[0, 0]
    y = (v - k[1, 2]) * depth / k[1, 1]
    points = np.stack([x, y, depth], axis=-1)
    pose = camera.pose_matrix
    return points @ pose[:3, :3].T + pose[:3, 3]


def fuse_heightmaps(images, cameras, bounds=BOUNDS, pixel_size=PIXEL_SIZE):
    """Fuses RGB-D images into one top-down colour map, height map and body-id map.

    Every image is back-projected to world points; points inside `bounds` land in the pixel
    `(row, col) = ((y - y_min) / pixel_size, (x - x_min) / pixel_size)`. Where several points (or
    cameras) fall in a pixel, the highest one wins, so the map is what a camera straight above
    would see.

    Args:
        images: a list of `(color, depth, segm)` triples (`segm` may be `None`).
        cameras: the matching `Camera`s.
        bounds: workspace bounds, `[[x0, x1], [y0, y1], [z0, z1]]`.
        pixel_size: metres per pixel.

    Returns:
        `(colormap, heightmap, segmap)`: uint8 `(rows, cols, 3)`, float32 `(rows, cols)` heights
        above `z0` (0 where nothing was seen), int32 `(rows, cols)` body ids (-1 where empty).
    """
    rows = int(round((bounds[1, 1] - bounds[1, 0]) / pixel_size))
    cols = int(round((bounds[0, 1] - bounds[0, 0]) / pixel_size))
    all_points, all_colors, all_ids = [], [], []
    for (color, depth, segm), camera in zip(images, cameras):
        points = point_cloud(depth, camera).reshape(-1, 3)
        inside = (
            (points[:, 0] >= bounds[0, 0])
            & (points[:, 0] < bounds[0, 1])
            & (points[:, 1] >= bounds[1, 0])
            & (points[:, 1] < bounds[1, 1])
            & (points[:, 2] >= bounds[2, 0])
            & (points[:, 2] < bounds[2, 1])
        )
        all_points.append(points[inside])
        all_colors.append(color.reshape(-1, 3)[inside])
        ids = segm.reshape(-1)[inside] if segm is not None else np.full(inside.sum(), -1)
        all_ids.append(ids)
    points = np.concatenate(all_points)
    colors = np.concatenate(all_colors)
    ids = np.concatenate(all_ids)
    order = np.argsort(points[:, 2], kind="stable")
    points, colors, ids = points[order], colors[order], ids[order]
    col = np.clip(((points[:, 0] - bounds[0, 0]) / pixel_size).astype(np.int64), 0, cols - 1)
    row = np.clip(((points[:, 1] - bounds[1, 0]) / pixel_size).astype(np.int64), 0, rows - 1)
    heightmap = np.zeros((rows, cols), dtype=np.float32)
    colormap = np.zeros((rows, cols, 3), dtype=np.uint8)
    segmap = np.full((rows, cols), -1, dtype=np.int32)
    # Later (higher) points overwrite earlier ones in fancy-index assignment.
    heightmap[row, col] = points[:, 2] - bounds[2, 0]
    colormap[row, col] = colors
    segmap[row, col] = ids
    return colormap, heightmap, segmap


def pixel_to_position(pixel, heightmap, bounds=BOUNDS, pixel_size=PIXEL_SIZE):
    """The world position `(x, y, z)` of a heightmap pixel `(row, col)` (its centre)."""
    row, col = int(pixel[0]), int(pixel[1])
    x = bounds[0, 0] + (col + 0.5) * pixel_size
    y = bounds[1, 0] + (row + 0.5) * pixel_size
    z = bounds[2, 0] + float(heightmap[row, col])
    return np.array([x, y, z])


def position_to_pixel(position, bounds=BOUNDS, pixel_size=PIXEL_SIZE):
    """The heightmap pixel `(row, col)` that holds the world position `(x, y, ...)`."""
    col = int(np.floor((position[0] - bounds[0, 0]) / pixel_size))
    row = int(np.floor((position[1] - bounds[1, 0]) / pixel_size))
    return row, col
