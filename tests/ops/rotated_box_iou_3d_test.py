import numpy as np
import pytest
from keras import ops

from keras_suite.ops import box_footprints, rotated_box_iou_3d
from keras_suite.testing import TestCase


def grid_iou(box_a, box_b, steps=90):
    """IoU estimated by counting the cells of a regular grid that fall in each box."""
    reach = np.stack([box_a, box_b])
    radius = 0.5 * np.hypot(reach[:, 3], reach[:, 4])
    low = (reach[:, :2] - radius[:, None]).min(axis=0)
    high = (reach[:, :2] + radius[:, None]).max(axis=0)
    z_low = np.min(reach[:, 2] - reach[:, 5] / 2)
    z_high = np.max(reach[:, 2] + reach[:, 5] / 2)
    axes = [
        np.linspace(low[0], high[0], steps),
        np.linspace(low[1], high[1], steps),
        np.linspace(z_low, z_high, steps),
    ]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)

    def inside(box):
        offset = grid - box[:3]
        cos, sin = np.cos(box[6]), np.sin(box[6])
        u = cos * offset[:, 0] + sin * offset[:, 1]
        v = -sin * offset[:, 0] + cos * offset[:, 1]
        return (
            (np.abs(u) <= box[3] / 2)
            & (np.abs(v) <= box[4] / 2)
            & (np.abs(offset[:, 2]) <= box[5] / 2)
        )

    in_a, in_b = inside(box_a), inside(box_b)
    return (in_a & in_b).sum() / max((in_a | in_b).sum(), 1)


def box(cx, cy, cz, sx, sy, sz, yaw=0.0):
    return np.array([cx, cy, cz, sx, sy, sz, yaw], "float32")


class RotatedBoxIoU3DTest(TestCase):
    def test_hand_worked_cases(self):
        cube = box(0, 0, 0, 2, 2, 2)
        cases = [
            (cube, cube, 1.0),
            (cube, box(1, 0, 0, 2, 2, 2), 4 / 12),  # 1x2x2 overlap of two 8s
            (cube, box(5, 0, 0, 2, 2, 2), 0.0),
            (cube, box(0, 0, 0.5, 1, 1, 1), 1 / 8),  # inside: 1 / 8
            (cube, box(0, 0, 1.5, 2, 2, 2), 2 / 14),  # height overlap 0.5: 2 / (16 - 2)
            # A square turned by 45 degrees over itself: the octagon of area 8 (sqrt 2 - 1).
            (cube, box(0, 0, 0, 2, 2, 2, np.pi / 4), None),
            # The same box packed with yaw + 90 degrees and its x/y sizes swapped.
            (box(1, 2, 3, 3, 1, 2, 0.3), box(1, 2, 3, 1, 3, 2, 0.3 + np.pi / 2), 1.0),
            (box(1, 2, 3, 3, 1, 2, 0.3), box(1, 2, 3, 3, 1, 2, 0.3 - np.pi), 1.0),
        ]
        octagon = 8 * (np.sqrt(2) - 1) * 2
        cases[5] = (cases[5][0], cases[5][1], octagon / (16 - octagon))
        # A 4x2 box and a 2x4 box crossing at the centre: a 2x2 square.
        cases.append((box(0, 0, 0, 4, 2, 1), box(0, 0, 0, 2, 4, 1), 4 / 12))
        a = np.stack([c[0] for c in cases])
        b = np.stack([c[1] for c in cases])
        expected = np.array([c[2] for c in cases], "float32")
        self.assertAllClose(rotated_box_iou_3d(a, b), expected, atol=1e-5)
        self.assertAllClose(rotated_box_iou_3d(b, a), expected, atol=1e-5)

    def test_against_grid_estimate(self):
        rng = np.random.default_rng(0)
        count = 30
        a = np.concatenate(
            [
                rng.uniform(-1, 1, (count, 3)),
                rng.uniform(0.3, 2, (count, 3)),
                rng.uniform(-4, 4, (count, 1)),
            ],
            axis=1,
        ).astype("float32")
        b = a + np.concatenate(
            [
                rng.uniform(-0.8, 0.8, (count, 3)),
                rng.uniform(-0.2, 0.6, (count, 3)),
                rng.uniform(-2, 2, (count, 1)),
            ],
            axis=1,
        ).astype("float32")
        got = ops.convert_to_numpy(rotated_box_iou_3d(a, b))
        reference = np.array([grid_iou(x, y) for x, y in zip(a, b)])
        self.assertGreater((reference > 0.1).sum(), 10)
        self.assertAllClose(got, reference, atol=0.03)

    def test_pairwise_broadcasting(self):
        rng = np.random.default_rng(1)
        a = np.concatenate(
            [rng.uniform(-1, 1, (4, 3)), rng.uniform(0.5, 2, (4, 3)), rng.uniform(-3, 3, (4, 1))], 1
        ).astype("float32")
        b = a[::-1] + 0.2
        matrix = ops.convert_to_numpy(rotated_box_iou_3d(a[:, None], b[None]))
        self.assertEqual(matrix.shape, (4, 4))
        for i in range(4):
            for j in range(4):
                self.assertAllClose(matrix[i, j], rotated_box_iou_3d(a[i], b[j]), atol=1e-6)

    def test_footprints(self):
        corners = box_footprints(box(1, 2, 0, 2, 1, 1, np.pi / 2))
        expected = np.array([[1.5, 1.0], [1.5, 3.0], [0.5, 3.0], [0.5, 1.0]])
        self.assertAllClose(corners, expected, atol=1e-6)

    def test_empty(self):
        self.assertEqual(rotated_box_iou_3d(np.zeros((1, 7)), np.zeros((0, 7))).shape, (0,))

    def test_bad_input(self):
        with pytest.raises(ValueError, match="boxes_b"):
            rotated_box_iou_3d(np.zeros((2, 7)), np.zeros((2, 6)))
