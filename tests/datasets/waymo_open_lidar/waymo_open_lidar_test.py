"""Tests of the `waymo_open_lidar` builder on TFRecords of serialized Waymo Open `Frame`s."""

import os
import zlib

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_suite.datasets.waymo_open_lidar import WaymoOpenLidar, frame_proto
from keras_suite.testing import manual_download_test_case

R2 = np.sqrt(2.0)
FRAME_POSE = np.array([[1, 0, 0, 100], [0, 1, 0, 200], [0, 0, 1, 5], [0, 0, 0, 1]], np.float64)
TOP_EXTRINSIC = np.array([[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 2], [0, 0, 0, 1]], np.float64)
# Front lidar turned +90 degrees about z, mounted at (4, 0, 1).
FRONT_EXTRINSIC = np.array([[0, -1, 0, 4], [1, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1]], np.float64)
# Top lidar: 2 x 4 range image; rows use inclinations asin(0.6) (row 0) and 0 (row 1); the
# columns look along azimuths 3pi/4, pi/4, -pi/4, -3pi/4.
TOP_RANGES = np.array([[10, 0, 0, 5], [0, 2, 0, 0]], np.float32)
TOP_INTENSITY = np.array([[0.5, 0, 0, 0.25], [0, 0.75, 0, 0]], np.float32)
TOP_ELONGATION = np.array([[0.125, 0, 0, 0.5], [0, 1.5, 0, 0]], np.float32)
TOP_NLZ = np.array([[-1, -1, -1, 1], [-1, -1, -1, -1]], np.float32)
TOP_SECOND_RANGES = np.array([[0, 4, 0, 0], [0, 0, 0, 0]], np.float32)
# Front lidar: 3 x 2 range image with only min/max inclinations (-0.3, 0.3): rows at 0.2, 0,
# -0.2; sensor azimuths pi/2 - pi/2 = 0 and -pi/2 - pi/2 = -pi.
FRONT_RANGES = np.array([[1, 0], [3, 2], [0, 0]], np.float32)

# Worked by hand (see the comments above): top returns 1 then 2, then the front lidar.
EXPECTED_POSITIONS = np.array(
    [
        # (0, 0): 10 * (0.8 cos 3pi/4, 0.8 sin 3pi/4, 0.6) + (1, 0, 2), and its pixel pose is
        # 0.5 m ahead of the frame pose.
        [1 - 4 * R2 + 0.5, 4 * R2, 8],
        # (0, 3): 5 * (0.8 cos -3pi/4, 0.8 sin -3pi/4, 0.6) + (1, 0, 2).
        [1 - 2 * R2, -2 * R2, 5],
        # (1, 1): 2 * (cos pi/4, sin pi/4, 0) + (1, 0, 2) = (1 + r2, r2, 2), then the pixel's
        # pose yawed by +90 degrees maps (x, y, z) to (-y, x, z).
        [-R2, 1 + R2, 2],
        # Second return (0, 1): 4 * (0.8 cos pi/4, 0.8 sin pi/4, 0.6) + (1, 0, 2).
        [1 + 1.6 * R2, 1.6 * R2, 4.4],
        # Front (0, 0): inclination 0.2: R (cos 0.2, 0, sin 0.2) + (4, 0, 1).
        [4, np.cos(0.2), 1 + np.sin(0.2)],
        # Front (1, 0): R (3, 0, 0) + (4, 0, 1); (1, 1): R (-2, 0, 0) + (4, 0, 1).
        [4, 3, 1],
        [4, -2, 1],
    ]
)
CAMERAS = ["front", "front_left", "front_right", "side_left", "side_right"]


def matrix_bytes(values):
    matrix = frame_proto.MatrixFloat()
    matrix.data.extend(np.asarray(values, np.float32).ravel().tolist())
    matrix.shape.dims.extend(np.shape(values))
    return zlib.compress(matrix.SerializeToString())


def pixel_pose():
    pose = np.zeros((2, 4, 6), np.float32)
    pose[..., 3:] = (100, 200, 5)
    pose[:, 0, 3] = 100.5
    pose[1, 1, 2] = np.pi / 2
    return pose


def jpeg(color):
    return tf.io.encode_jpeg(np.full((6, 8, 3), color, np.uint8), quality=100).numpy()


def make_frame(scene, timestamp, camera_count=5):
    frame = frame_proto.Frame()
    frame.context.name = scene
    frame.context.stats.time_of_day = "Day"
    frame.context.stats.location = "location_sf"
    frame.context.stats.weather = "sunny"
    frame.timestamp_micros = timestamp
    frame.pose.transform.extend(FRAME_POSE.ravel())

    top = frame.context.laser_calibrations.add(name=1)
    top.beam_inclinations.extend([0.0, np.arcsin(0.6)])
    top.extrinsic.transform.extend(TOP_EXTRINSIC.ravel())
    front = frame.context.laser_calibrations.add(name=2)
    front.beam_inclination_min, front.beam_inclination_max = -0.3, 0.3
    front.extrinsic.transform.extend(FRONT_EXTRINSIC.ravel())

    laser = frame.lasers.add(name=2)  # written before the top lidar on purpose
    front_image = np.zeros((3, 2, 4), np.float32)
    front_image[..., 0] = FRONT_RANGES
    laser.ri_return1.range_image_compressed = matrix_bytes(front_image)
    laser = frame.lasers.add(name=1)
    top_image = np.stack([TOP_RANGES, TOP_INTENSITY, TOP_ELONGATION, TOP_NLZ], axis=-1)
    laser.ri_return1.range_image_compressed = matrix_bytes(top_image)
    laser.ri_return1.range_image_pose_compressed = matrix_bytes(pixel_pose())
    second = np.zeros((2, 4, 4), np.float32)
    second[..., 0] = TOP_SECOND_RANGES
    second[..., 1] = 2.0
    laser.ri_return2.range_image_compressed = matrix_bytes(second)

    label = frame.laser_labels.add(id="car-1", type=1, detection_difficulty_level=2)
    label.box.center_x, label.box.center_y, label.box.center_z = 1.0, 2.0, 3.0
    label.box.length, label.box.width, label.box.height, label.box.heading = 4.5, 2.0, 1.5, 0.25
    label.num_lidar_points_in_box = 10
    label = frame.laser_labels.add(id="walker-7", type=2, tracking_difficulty_level=1)
    label.box.center_x = -5.0
    label.box.length, label.box.width, label.box.height = 0.5, 0.75, 1.75

    for number in range(1, camera_count + 1):
        frame.images.add(name=number, image=jpeg(40 * number))
        calibration = frame.context.camera_calibrations.add(name=number, width=8, height=6)
        calibration.intrinsic.extend([100 + number, 101, 4, 3, 0.1, -0.2, 0.01, 0.02, 0.3])
        extrinsic = np.eye(4)
        extrinsic[:3, 3] = (number, 0, 1.5)
        calibration.extrinsic.transform.extend(extrinsic.ravel())
    return frame


def write_segment(path, frames):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for frame in frames:
            writer.write(frame if isinstance(frame, bytes) else frame.SerializeToString())


def write_download(manual_dir):
    write_segment(
        os.path.join(manual_dir, "training", "segment-1_with_camera_labels.tfrecord"),
        [make_frame("seg1", 1000), make_frame("seg1", 1100)],
    )
    write_segment(
        os.path.join(manual_dir, "validation", "segment-2_with_camera_labels.tfrecord"),
        [make_frame("seg2", 5000)],
    )


def build(manual_dir, data_dir):
    builder = WaymoOpenLidar(data_dir=data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual_dir)
    )
    return builder


class WaymoOpenLidarBuilderTest(manual_download_test_case.ManualDownloadTestCase):
    DATASET_CLASS = WaymoOpenLidar
    SPLITS = {"train": 2, "validation": 1}

    @staticmethod
    def write_manual_download(folder):
        write_download(folder)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    manual_dir = str(tmp_path_factory.mktemp("manual"))
    write_download(manual_dir)
    return build(manual_dir, str(tmp_path_factory.mktemp("data")))


def test_frame_values(built):
    frames = list(tfds.as_numpy(built.as_dataset(split="train").take(2)))
    frame = next(f for f in frames if f["timestamp"] == 1000)
    assert frame["scene_name"] == b"seg1"
    assert frame["frame_name"] == b"seg1_1000"
    assert (frame["time_of_day"], frame["location"], frame["weather"]) == (
        b"Day",
        b"location_sf",
        b"sunny",
    )
    np.testing.assert_array_equal(frame["pose"], FRAME_POSE)

    points = frame["points"]
    np.testing.assert_allclose(points["positions"], EXPECTED_POSITIONS, atol=2e-5)
    np.testing.assert_array_equal(points["intensity"][:, 0], [0.5, 0.25, 0.75, 2, 0, 0, 0])
    np.testing.assert_array_equal(points["elongation"][:, 0], [0.125, 0.5, 1.5, 0, 0, 0, 0])
    np.testing.assert_array_equal(points["inside_nlz"][:, 0], [0, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(points["lidar"][:, 0], [1, 1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(points["return_number"][:, 0], [1, 1, 1, 2, 1, 1, 1])

    objects = frame["objects"]
    assert list(objects["id"]) == [b"car-1", b"walker-7"]
    np.testing.assert_array_equal(objects["category"], [1, 2])
    np.testing.assert_array_equal(objects["center"], [[1, 2, 3], [-5, 0, 0]])
    np.testing.assert_array_equal(objects["size"], [[4.5, 2, 1.5], [0.5, 0.75, 1.75]])
    np.testing.assert_array_equal(objects["heading"], [0.25, 0])
    np.testing.assert_array_equal(objects["num_lidar_points"], [10, 0])
    np.testing.assert_array_equal(objects["detection_difficulty"], [2, 0])
    np.testing.assert_array_equal(objects["tracking_difficulty"], [0, 1])

    for number, name in enumerate(CAMERAS, start=1):
        camera = frame["cameras"][name]
        assert camera["image"].shape == (6, 8, 3)
        np.testing.assert_allclose(camera["image"], 40 * number, atol=2)
        np.testing.assert_allclose(
            camera["intrinsics"]["K"], [[100 + number, 0, 4], [0, 101, 3], [0, 0, 1]]
        )
        np.testing.assert_allclose(
            camera["intrinsics"]["distortion"], [0.1, -0.2, 0.01, 0.02, 0.3], rtol=1e-6
        )
        np.testing.assert_array_equal(camera["extrinsics"]["R"], np.eye(3))
        np.testing.assert_array_equal(camera["extrinsics"]["t"], [number, 0, 1.5])


def expect_build_error(tmp_path, error, match):
    with pytest.raises(error, match=match):
        build(str(tmp_path / "manual"), str(tmp_path / "data"))


def segment_path(tmp_path):
    return str(tmp_path / "manual" / "training" / "segment-9.tfrecord")


def test_missing_manual_dir(tmp_path):
    expect_build_error(tmp_path, AssertionError, "Manual directory .*manual does not exist")


def test_no_segments(tmp_path):
    os.makedirs(tmp_path / "manual" / "training")
    (tmp_path / "manual" / "readme.txt").write_text("x")
    expect_build_error(tmp_path, FileNotFoundError, "No Waymo Open segment found")


def test_corrupt_record(tmp_path):
    write_segment(segment_path(tmp_path), [make_frame("s", 1), make_frame("s", 2)])
    data = bytearray(open(segment_path(tmp_path), "rb").read())
    data[-40] ^= 0xFF  # inside the second record's payload: its CRC no longer matches
    open(segment_path(tmp_path), "wb").write(bytes(data))
    expect_build_error(
        tmp_path, ValueError, "segment-9.tfrecord is corrupt or truncated at record 1"
    )


def test_record_that_is_not_a_frame(tmp_path):
    write_segment(segment_path(tmp_path), [b"\x0a\xff\xff\xff\x0f"])
    expect_build_error(tmp_path, ValueError, "Record 0 of .*segment-9.tfrecord is not a serialized")


def test_range_image_that_is_not_zlib(tmp_path):
    frame = make_frame("s", 1)
    frame.lasers[0].ri_return1.range_image_compressed = b"not zlib data"
    write_segment(segment_path(tmp_path), [frame])
    expect_build_error(
        tmp_path, ValueError, "segment-9.tfrecord, record 0: lidar 2's return 1 .* zlib"
    )


def test_missing_camera(tmp_path):
    write_segment(segment_path(tmp_path), [make_frame("s", 1, camera_count=4)])
    expect_build_error(tmp_path, ValueError, "record 0: expected an image .* SIDE_RIGHT")
