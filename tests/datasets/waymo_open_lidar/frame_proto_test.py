"""Tests of the `Frame` schema against the published field numbers and hand-written bytes."""

import numpy as np

from keras_suite.datasets.waymo_open_lidar import frame_proto


def test_hand_encoded_label_box_parses():
    # Wire format, written byte by byte from label.proto's field numbers: Label.box = 1
    # (length-delimited), Box.length = 5 and Box.width = 4 (64-bit), Label.type = 3 (varint).
    box = b"\x29" + np.float64(4.5).tobytes() + b"\x21" + np.float64(2.0).tobytes()
    serialized = b"\x0a" + bytes([len(box)]) + box + b"\x18\x04"
    label = frame_proto.Label()
    label.ParseFromString(serialized)
    assert (label.box.length, label.box.width, label.type) == (4.5, 2.0, 4)


def test_field_numbers_match_dataset_proto():
    published = {
        "Frame": {"context": 1, "timestamp_micros": 2, "pose": 3, "images": 4, "lasers": 5},
        "Context": {"name": 1, "camera_calibrations": 2, "laser_calibrations": 3, "stats": 4},
        "LaserCalibration": {
            "name": 1,
            "beam_inclinations": 2,
            "beam_inclination_min": 3,
            "beam_inclination_max": 4,
            "extrinsic": 5,
        },
        "Laser": {"name": 1, "ri_return1": 2, "ri_return2": 3},
        "RangeImage": {
            "range_image_compressed": 2,
            "camera_projection_compressed": 3,
            "range_image_pose_compressed": 4,
        },
        "MatrixFloat": {"data": 1, "shape": 2},
        "MatrixInt32": {"data": 1, "shape": 2},
        "CameraImage": {"name": 1, "image": 2, "pose": 3},
        "CameraCalibration": {"name": 1, "intrinsic": 2, "extrinsic": 3, "width": 4, "height": 5},
        "Transform": {"transform": 1},
        "Label": {"box": 1, "type": 3, "id": 4, "detection_difficulty_level": 5},
        "Label.Box": {"center_x": 1, "center_z": 3, "width": 4, "length": 5, "heading": 7},
    }
    for message, fields in published.items():
        descriptor = frame_proto.POOL.FindMessageTypeByName(f"waymo.open_dataset.{message}")
        actual = {name: descriptor.fields_by_name[name].number for name in fields}
        assert actual == fields, message
