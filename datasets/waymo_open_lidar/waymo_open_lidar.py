"""Waymo Open Dataset v1 lidar frames (points, 3D boxes, camera images) from the user's download."""

import zlib

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from etils import epath
from google.protobuf import message as protobuf_message

from keras_suite.datasets.waymo_open_lidar import frame_proto, range_image

SPLIT_FOLDERS = {"train": "training", "validation": "validation", "test": "testing"}
OBJECT_CATEGORIES = ["unknown", "vehicle", "pedestrian", "sign", "cyclist"]
ZLIB = tfds.features.Encoding.ZLIB

_DESCRIPTION = """
Waymo Open Dataset (perception v1) lidar frames. Each example is one `Frame` of a run segment:
the points of the top lidar and of the four short-range lidars (both returns) in the vehicle
frame with intensity and elongation, the 3D laser labels as boxes, and the five camera images
with their intrinsics and extrinsics.
"""

_CITATION = """
@InProceedings{Sun_2020_CVPR,
  author = {Sun, Pei and Kretzschmar, Henrik and Dotiwalla, Xerxes and Chouard, Aurelien and
            Patnaik, Vijaysai and Tsui, Paul and Guo, James and Zhou, Yin and Chai, Yuning and
            Caine, Benjamin and Vasudevan, Vijay and Han, Wei and Ngiam, Jiquan and Zhao, Hang
            and Timofeev, Aleksei and Ettinger, Scott and Krivokon, Maxim and Gao, Amy and
            Joshi, Aditya and Zhang, Yu and Shlens, Jonathon and Chen, Zhifeng and
            Anguelov, Dragomir},
  title = {Scalability in Perception for Autonomous Driving: Waymo Open Dataset},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern
               Recognition (CVPR)},
  year = {2020}
}
"""


def _camera_features():
    return {
        "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg"),
        "intrinsics": {
            "K": tfds.features.Tensor(shape=(3, 3), dtype=np.float32),
            "distortion": tfds.features.Tensor(shape=(5,), dtype=np.float32),
        },
        "extrinsics": {
            "R": tfds.features.Tensor(shape=(3, 3), dtype=np.float32),
            "t": tfds.features.Tensor(shape=(3,), dtype=np.float32),
        },
    }


class WaymoOpenLidar(tfds.core.GeneratorBasedBuilder):
    """Waymo Open Dataset v1 frames: lidar points in the vehicle frame, 3D boxes, camera images.

    Reads the segment TFRecords of the perception dataset v1 (`training/`, `validation/`, and
    `testing/` when present) from `manual_dir`, one example per serialized `Frame`. The `Frame`
    schema is defined in `frame_proto` from the published `dataset.proto`, so the official
    `waymo-open-dataset` package is not needed. The conversion of range images follows the
    published one (`range_image` explains it): beam inclinations from the calibration (uniform
    over [min, max] when only those are given), the top lidar's per-pixel vehicle pose, and the
    pixels whose range is positive.

    Features (following TF3D's `waymo_object_per_frame`): `scene_name` (the segment's
    `context.name`), `frame_name` (`<scene_name>_<timestamp>`), `timestamp` (microseconds),
    `time_of_day`, `location`, `weather`, `pose` (4, 4) float64 vehicle-to-global pose;
    `points/positions` (N, 3) float32 in the vehicle frame, `points/intensity` (N, 1),
    `points/elongation` (N, 1), `points/inside_nlz` (N, 1) bool (range-image channel 3 > 0),
    `points/lidar` (N, 1) int32 laser name (1 top, 2 front, 3 side left, 4 side right, 5 rear),
    `points/return_number` (N, 1) int32 (1 or 2); `objects/{id, category, center, size,
    heading, num_lidar_points, detection_difficulty, tracking_difficulty}` from the laser
    labels, with `size` = (length, width, height) along the box's heading, left, up axes;
    `cameras/<front|front_left|front_right|side_left|side_right>/{image, intrinsics/{K,
    distortion}, extrinsics/{R, t}}`, where `K` is built from (f_u, f_v, c_u, c_v),
    `distortion` is (k1, k2, p1, p2, k3) and `R, t` map camera to vehicle coordinates.

    Example:

    ```python
    import tensorflow_datasets as tfds

    from keras_suite.datasets import WaymoOpenLidar  # registers the `waymo_open_lidar` builder

    ds = tfds.load(
        "waymo_open_lidar", split="validation",
        download_and_prepare_kwargs={
            "download_config": tfds.download.DownloadConfig(manual_dir="/data/waymo_v1")
        },
    )
    ```
    """

    VERSION = tfds.core.Version("1.0.0")
    # TFDS infers these from the module name, which does not match the folder `datasets/`.
    code_path = epath.Path(__file__)
    pkg_dir_path = epath.Path(__file__).parent
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Register at https://waymo.com/open/ (licence), then download the Perception Dataset v1
    (e.g. v1.4.x) "individual files": the segment TFRecords of `training` and `validation`
    (and `testing` if wanted), for example with
    `gsutil -m cp gs://waymo_open_dataset_v_1_4_3/individual_files/training/*.tfrecord
    manual_dir/training/`. Lay them out as:

        manual_dir/
          training/segment-<...>_with_camera_labels.tfrecord
          validation/segment-<...>_with_camera_labels.tfrecord
          testing/segment-<...>.tfrecord        (optional)

    Only the v1 format (serialized `Frame` messages) is read, not the v2 Parquet files.
    """

    def _info(self):
        objects = {
            "id": tfds.features.Text(),
            "category": tfds.features.ClassLabel(names=OBJECT_CATEGORIES),
            "center": tfds.features.Tensor(shape=(3,), dtype=np.float32),
            "size": tfds.features.Tensor(shape=(3,), dtype=np.float32),
            "heading": np.float32,
            "num_lidar_points": np.int32,
            "detection_difficulty": np.int32,
            "tracking_difficulty": np.int32,
        }

        def column(dtype):
            return tfds.features.Tensor(shape=(None, 1), dtype=dtype, encoding=ZLIB)

        return self.dataset_info_from_configs(
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict(
                {
                    "scene_name": tfds.features.Text(),
                    "frame_name": tfds.features.Text(),
                    "timestamp": np.int64,
                    "time_of_day": tfds.features.Text(),
                    "location": tfds.features.Text(),
                    "weather": tfds.features.Text(),
                    "pose": tfds.features.Tensor(shape=(4, 4), dtype=np.float64),
                    "points": {
                        "positions": tfds.features.Tensor(
                            shape=(None, 3), dtype=np.float32, encoding=ZLIB
                        ),
                        "intensity": column(np.float32),
                        "elongation": column(np.float32),
                        "inside_nlz": column(np.bool_),
                        "lidar": column(np.int32),
                        "return_number": column(np.int32),
                    },
                    "objects": tfds.features.Sequence(objects),
                    "cameras": {
                        name: _camera_features() for name in frame_proto.CAMERA_NAMES.values()
                    },
                }
            ),
            homepage="https://waymo.com/open/",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        # TFDS itself reports a missing or empty manual_dir, with the instructions above.
        manual_dir = epath.Path(dl_manager.manual_dir)
        splits = {}
        for split, folder in SPLIT_FOLDERS.items():
            files = sorted((manual_dir / folder).glob("*.tfrecord"))
            if files:
                splits[split] = self._generate_examples(files)
        if not splits:
            raise FileNotFoundError(
                f"No Waymo Open segment found under {manual_dir}. Expected `*.tfrecord` files of "
                f"the perception dataset v1 in {manual_dir / 'training'} and/or "
                f"{manual_dir / 'validation'}. Received the entries: "
                f"{sorted(p.name for p in manual_dir.iterdir())}"
            )
        return splits

    def _generate_examples(self, files):
        for path in files:
            for index, frame in enumerate(read_frames(path)):
                where = f"{path}, record {index}"
                yield f"{path.name}_{index}", frame_to_example(frame, where)


def read_frames(path):
    """Yields the `Frame` messages of one segment TFRecord, with errors naming the record."""
    index = 0
    records = iter(tf.data.TFRecordDataset(str(path)).as_numpy_iterator())
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except tf.errors.DataLossError as error:
            raise ValueError(
                f"{path} is corrupt or truncated at record {index}: expected a TFRecord file of "
                f"serialized Waymo Open `Frame` messages (re-download it). Received the error: "
                f"{error.message}"
            ) from error
        frame = frame_proto.Frame()
        try:
            frame.ParseFromString(record)
        except protobuf_message.DecodeError as error:
            raise ValueError(
                f"Record {index} of {path} is not a serialized Waymo Open `Frame` message "
                f"(perception dataset v1). Received {len(record)} bytes that do not parse: {error}"
            ) from error
        yield frame
        index += 1


def _transform(transform, where, what):
    values = np.asarray(transform.transform, np.float64)
    if values.shape != (16,):
        raise ValueError(
            f"{where}: {what} must be a 4x4 row-major transform (16 numbers). "
            f"Received {values.size} numbers."
        )
    return values.reshape(4, 4)


def decompress_matrix(data, message_class, channels, where, what):
    """A zlib-compressed serialized `MatrixFloat` as an (H, W, channels) array."""
    try:
        serialized = zlib.decompress(data)
    except zlib.error as error:
        raise ValueError(
            f"{where}: {what} must be a zlib-compressed serialized {message_class.__name__}. "
            f"Received {len(data)} bytes that do not decompress: {error}"
        ) from error
    matrix = message_class()
    matrix.ParseFromString(serialized)
    dims = tuple(matrix.shape.dims)
    values = np.asarray(matrix.data)
    if len(dims) != 3 or dims[2] != channels or values.size != int(np.prod(dims)):
        raise ValueError(
            f"{where}: {what} must be an [H, W, {channels}] matrix whose data has H * W * "
            f"{channels} values. Received shape {list(dims)} with {values.size} values."
        )
    return values.reshape(dims)


def _inclinations(calibration, height, where):
    if len(calibration.beam_inclinations):
        inclinations = np.asarray(calibration.beam_inclinations, np.float64)
        if inclinations.shape != (height,):
            raise ValueError(
                f"{where}: lidar {calibration.name} has {inclinations.size} beam inclinations "
                f"for a range image of {height} rows. Expected one per row."
            )
        return inclinations
    return range_image.uniform_inclinations(
        calibration.beam_inclination_min, calibration.beam_inclination_max, height
    )


def frame_points(frame, where):
    """Points of all lidars and both returns, concatenated in laser-name then return order."""
    calibrations = {c.name: c for c in frame.context.laser_calibrations}
    frame_pose = _transform(frame.pose, where, "the frame's `pose`")
    columns = {k: [] for k in ("positions", "intensity", "elongation", "nlz", "lidar", "return")}
    for laser in sorted(frame.lasers, key=lambda laser: laser.name):
        if laser.name not in calibrations:
            raise ValueError(
                f"{where}: lidar {laser.name} has range images but no laser calibration in the "
                f"frame's context. Expected a calibration for each lidar. Received calibrations "
                f"for: {sorted(calibrations)}"
            )
        calibration = calibrations[laser.name]
        extrinsic = _transform(calibration.extrinsic, where, f"lidar {laser.name}'s extrinsic")
        pixel_pose = None
        pose_bytes = laser.ri_return1.range_image_pose_compressed
        if laser.name == frame_proto.LASER_TOP and pose_bytes:
            what = "the top lidar's `range_image_pose_compressed`"
            pixel_pose = decompress_matrix(pose_bytes, frame_proto.MatrixFloat, 6, where, what)
        for return_number, ri in ((1, laser.ri_return1), (2, laser.ri_return2)):
            if not ri.range_image_compressed:
                continue
            what = f"lidar {laser.name}'s return {return_number} `range_image_compressed`"
            image = decompress_matrix(
                ri.range_image_compressed, frame_proto.MatrixFloat, 4, where, what
            )
            if pixel_pose is not None and pixel_pose.shape[:2] != image.shape[:2]:
                raise ValueError(
                    f"{where}: the top lidar's pixel pose must have the shape of its range image "
                    f"{list(image.shape[:2])}. Received {list(pixel_pose.shape[:2])}."
                )
            inclinations = _inclinations(calibration, image.shape[0], where)
            points = range_image.range_image_to_points(
                image[..., 0], extrinsic, inclinations, pixel_pose, frame_pose
            )
            valid = image[..., 0] > 0
            count = int(valid.sum())
            columns["positions"].append(points[valid])
            columns["intensity"].append(image[..., 1][valid])
            columns["elongation"].append(image[..., 2][valid])
            columns["nlz"].append(image[..., 3][valid] > 0)
            columns["lidar"].append(np.full(count, laser.name))
            columns["return"].append(np.full(count, return_number))

    def stack(name, dtype, width=None):
        parts = columns[name] or [np.zeros((0,) if width is None else (0, width))]
        values = np.concatenate(parts).astype(dtype)
        return values if width is not None else values[:, None]

    return {
        "positions": stack("positions", np.float32, 3),
        "intensity": stack("intensity", np.float32),
        "elongation": stack("elongation", np.float32),
        "inside_nlz": stack("nlz", np.bool_),
        "lidar": stack("lidar", np.int32),
        "return_number": stack("return", np.int32),
    }


def frame_objects(frame):
    labels = frame.laser_labels
    return {
        "id": [label.id for label in labels],
        "category": np.array([label.type for label in labels], np.int64),
        "center": np.array(
            [[lb.box.center_x, lb.box.center_y, lb.box.center_z] for lb in labels], np.float32
        ).reshape(-1, 3),
        "size": np.array(
            [[lb.box.length, lb.box.width, lb.box.height] for lb in labels], np.float32
        ).reshape(-1, 3),
        "heading": np.array([label.box.heading for label in labels], np.float32),
        "num_lidar_points": np.array([lb.num_lidar_points_in_box for lb in labels], np.int32),
        "detection_difficulty": np.array(
            [lb.detection_difficulty_level for lb in labels], np.int32
        ),
        "tracking_difficulty": np.array([lb.tracking_difficulty_level for lb in labels], np.int32),
    }


def frame_cameras(frame, where):
    images = {image.name: image for image in frame.images}
    calibrations = {c.name: c for c in frame.context.camera_calibrations}
    cameras = {}
    for number, name in frame_proto.CAMERA_NAMES.items():
        if number not in images or number not in calibrations:
            raise ValueError(
                f"{where}: expected an image and a calibration for each of the five cameras. "
                f"Camera {name.upper()} ({number}) is missing; received images for "
                f"{sorted(images)} and calibrations for {sorted(calibrations)}."
            )
        calibration = calibrations[number]
        intrinsic = np.asarray(calibration.intrinsic, np.float64)
        if intrinsic.shape != (9,):
            raise ValueError(
                f"{where}: camera {name.upper()}'s intrinsic must hold 9 numbers (f_u, f_v, c_u, "
                f"c_v, k1, k2, p1, p2, k3). Received {intrinsic.size}."
            )
        f_u, f_v, c_u, c_v = intrinsic[:4]
        extrinsic = _transform(calibration.extrinsic, where, f"camera {name.upper()}'s extrinsic")
        cameras[name] = {
            "image": images[number].image,
            "intrinsics": {
                "K": np.array([[f_u, 0, c_u], [0, f_v, c_v], [0, 0, 1]], np.float32),
                "distortion": intrinsic[4:].astype(np.float32),
            },
            "extrinsics": {
                "R": extrinsic[:3, :3].astype(np.float32),
                "t": extrinsic[:3, 3].astype(np.float32),
            },
        }
    return cameras


def frame_to_example(frame, where):
    """The TFDS example of one `Frame`; `where` (file and record) goes into error messages."""
    scene = frame.context.name
    stats = frame.context.stats
    return {
        "scene_name": scene,
        "frame_name": f"{scene}_{frame.timestamp_micros}",
        "timestamp": frame.timestamp_micros,
        "time_of_day": stats.time_of_day,
        "location": stats.location,
        "weather": stats.weather,
        "pose": _transform(frame.pose, where, "the frame's `pose`"),
        "points": frame_points(frame, where),
        "objects": frame_objects(frame),
        "cameras": frame_cameras(frame, where),
    }
