"""The Waymo Open Dataset v1 `Frame` message, defined in Python (no `waymo-open-dataset`).

The messages and field numbers are those of the published `waymo_open_dataset/dataset.proto`
and `label.proto` (package `waymo.open_dataset`, proto2), restricted to what the
`waymo_open_lidar` builder reads. Fields left out (label keypoints and associations) are kept by
the parser as unknown fields and ignored. The descriptors live in a private descriptor pool, so
they cannot clash with the official package if it is installed too.

Example:

```python
from keras_suite.datasets.waymo_open_lidar import frame_proto

frame = frame_proto.Frame()
frame.ParseFromString(serialized)
frame.context.name, frame.timestamp_micros
```
"""

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PACKAGE = "waymo.open_dataset"
_Field = descriptor_pb2.FieldDescriptorProto

DOUBLE = _Field.TYPE_DOUBLE
FLOAT = _Field.TYPE_FLOAT
INT64 = _Field.TYPE_INT64
INT32 = _Field.TYPE_INT32
STRING = _Field.TYPE_STRING
BYTES = _Field.TYPE_BYTES
MESSAGE = _Field.TYPE_MESSAGE
ENUM = _Field.TYPE_ENUM


def _field(name, number, field_type, type_name=None, repeated=False, packed=False):
    field = _Field(
        name=name,
        number=number,
        type=field_type,
        label=_Field.LABEL_REPEATED if repeated else _Field.LABEL_OPTIONAL,
    )
    if type_name is not None:
        field.type_name = f".{PACKAGE}.{type_name}"
    if packed:
        field.options.packed = True
    return field


def _enum(name, values):
    enum = descriptor_pb2.EnumDescriptorProto(name=name)
    for number, value_name in enumerate(values):
        enum.value.add(name=value_name, number=number)
    return enum


def _message(name, fields=(), nested=(), enums=()):
    message = descriptor_pb2.DescriptorProto(name=name)
    message.field.extend(fields)
    message.nested_type.extend(nested)
    message.enum_type.extend(enums)
    return message


def _label_messages():
    """label.proto: `Label` (with `Box`, `Metadata`) and `Polygon2dProto`."""
    box = _message(
        "Box",
        [
            _field("center_x", 1, DOUBLE),
            _field("center_y", 2, DOUBLE),
            _field("center_z", 3, DOUBLE),
            _field("length", 5, DOUBLE),
            _field("width", 4, DOUBLE),
            _field("height", 6, DOUBLE),
            _field("heading", 7, DOUBLE),
        ],
        enums=[_enum("Type", ["TYPE_UNKNOWN", "TYPE_3D", "TYPE_2D", "TYPE_AA_2D"])],
    )
    metadata = _message(
        "Metadata",
        [
            _field("speed_x", 1, DOUBLE),
            _field("speed_y", 2, DOUBLE),
            _field("speed_z", 5, DOUBLE),
            _field("accel_x", 3, DOUBLE),
            _field("accel_y", 4, DOUBLE),
            _field("accel_z", 6, DOUBLE),
        ],
    )
    label = _message(
        "Label",
        [
            _field("box", 1, MESSAGE, "Label.Box"),
            _field("metadata", 2, MESSAGE, "Label.Metadata"),
            _field("type", 3, ENUM, "Label.Type"),
            _field("id", 4, STRING),
            _field("detection_difficulty_level", 5, ENUM, "Label.DifficultyLevel"),
            _field("tracking_difficulty_level", 6, ENUM, "Label.DifficultyLevel"),
            _field("num_lidar_points_in_box", 7, INT32),
            _field("most_visible_camera_name", 11, STRING),
            _field("camera_synced_box", 12, MESSAGE, "Label.Box"),
            _field("num_top_lidar_points_in_box", 13, INT32),
        ],
        nested=[box, metadata],
        enums=[
            _enum(
                "Type",
                ["TYPE_UNKNOWN", "TYPE_VEHICLE", "TYPE_PEDESTRIAN", "TYPE_SIGN", "TYPE_CYCLIST"],
            ),
            _enum("DifficultyLevel", ["UNKNOWN", "LEVEL_1", "LEVEL_2"]),
        ],
    )
    polygon = _message(
        "Polygon2dProto",
        [
            _field("x", 1, DOUBLE, repeated=True),
            _field("y", 2, DOUBLE, repeated=True),
            _field("id", 3, STRING),
        ],
    )
    return [label, polygon]


def _dataset_messages():
    """dataset.proto: from `MatrixShape` to `Frame`."""
    object_count = _message(
        "ObjectCount", [_field("type", 1, ENUM, "Label.Type"), _field("count", 2, INT32)]
    )
    stats = _message(
        "Stats",
        [
            _field("laser_object_counts", 1, MESSAGE, "Context.Stats.ObjectCount", True),
            _field("camera_object_counts", 5, MESSAGE, "Context.Stats.ObjectCount", True),
            _field("time_of_day", 2, STRING),
            _field("location", 3, STRING),
            _field("weather", 4, STRING),
        ],
        nested=[object_count],
    )
    camera_names = ["UNKNOWN", "FRONT", "FRONT_LEFT", "FRONT_RIGHT", "SIDE_LEFT", "SIDE_RIGHT"]
    laser_names = ["UNKNOWN", "TOP", "FRONT", "SIDE_LEFT", "SIDE_RIGHT", "REAR"]
    shutter_directions = [
        "UNKNOWN",
        "TOP_TO_BOTTOM",
        "LEFT_TO_RIGHT",
        "BOTTOM_TO_TOP",
        "RIGHT_TO_LEFT",
        "GLOBAL_SHUTTER",
    ]
    return [
        _message("MatrixShape", [_field("dims", 1, INT32, repeated=True)]),
        _message(
            "MatrixFloat",
            [
                _field("data", 1, FLOAT, repeated=True, packed=True),
                _field("shape", 2, MESSAGE, "MatrixShape"),
            ],
        ),
        _message(
            "MatrixInt32",
            [
                _field("data", 1, INT32, repeated=True, packed=True),
                _field("shape", 2, MESSAGE, "MatrixShape"),
            ],
        ),
        _message("CameraName", enums=[_enum("Name", camera_names)]),
        _message("LaserName", enums=[_enum("Name", laser_names)]),
        _message("Transform", [_field("transform", 1, DOUBLE, repeated=True)]),
        _message(
            "Velocity",
            [
                _field("v_x", 1, FLOAT),
                _field("v_y", 2, FLOAT),
                _field("v_z", 3, FLOAT),
                _field("w_x", 4, DOUBLE),
                _field("w_y", 5, DOUBLE),
                _field("w_z", 6, DOUBLE),
            ],
        ),
        _message(
            "CameraCalibration",
            [
                _field("name", 1, ENUM, "CameraName.Name"),
                _field("intrinsic", 2, DOUBLE, repeated=True),
                _field("extrinsic", 3, MESSAGE, "Transform"),
                _field("width", 4, INT32),
                _field("height", 5, INT32),
                _field(
                    "rolling_shutter_direction",
                    6,
                    ENUM,
                    "CameraCalibration.RollingShutterReadOutDirection",
                ),
            ],
            enums=[_enum("RollingShutterReadOutDirection", shutter_directions)],
        ),
        _message(
            "LaserCalibration",
            [
                _field("name", 1, ENUM, "LaserName.Name"),
                _field("beam_inclinations", 2, DOUBLE, repeated=True),
                _field("beam_inclination_min", 3, DOUBLE),
                _field("beam_inclination_max", 4, DOUBLE),
                _field("extrinsic", 5, MESSAGE, "Transform"),
            ],
        ),
        _message(
            "Context",
            [
                _field("name", 1, STRING),
                _field("camera_calibrations", 2, MESSAGE, "CameraCalibration", True),
                _field("laser_calibrations", 3, MESSAGE, "LaserCalibration", True),
                _field("stats", 4, MESSAGE, "Context.Stats"),
            ],
            nested=[stats],
        ),
        _message(
            "RangeImage",
            [
                _field("range_image_compressed", 2, BYTES),
                _field("camera_projection_compressed", 3, BYTES),
                _field("range_image_pose_compressed", 4, BYTES),
                _field("range_image", 1, MESSAGE, "MatrixFloat"),
            ],
        ),
        _message(
            "CameraImage",
            [
                _field("name", 1, ENUM, "CameraName.Name"),
                _field("image", 2, BYTES),
                _field("pose", 3, MESSAGE, "Transform"),
                _field("velocity", 4, MESSAGE, "Velocity"),
                _field("pose_timestamp", 5, DOUBLE),
                _field("shutter", 6, DOUBLE),
                _field("camera_trigger_time", 7, DOUBLE),
                _field("camera_readout_done_time", 8, DOUBLE),
            ],
        ),
        _message(
            "CameraLabels",
            [
                _field("name", 1, ENUM, "CameraName.Name"),
                _field("labels", 2, MESSAGE, "Label", True),
            ],
        ),
        _message(
            "Laser",
            [
                _field("name", 1, ENUM, "LaserName.Name"),
                _field("ri_return1", 2, MESSAGE, "RangeImage"),
                _field("ri_return2", 3, MESSAGE, "RangeImage"),
            ],
        ),
        _message(
            "Frame",
            [
                _field("context", 1, MESSAGE, "Context"),
                _field("timestamp_micros", 2, INT64),
                _field("pose", 3, MESSAGE, "Transform"),
                _field("images", 4, MESSAGE, "CameraImage", True),
                _field("lasers", 5, MESSAGE, "Laser", True),
                _field("laser_labels", 6, MESSAGE, "Label", True),
                _field("projected_lidar_labels", 9, MESSAGE, "CameraLabels", True),
                _field("camera_labels", 8, MESSAGE, "CameraLabels", True),
                _field("no_label_zones", 7, MESSAGE, "Polygon2dProto", True),
            ],
        ),
    ]


def _build_pool():
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="waymo_open_dataset/dataset.proto", package=PACKAGE, syntax="proto2"
    )
    file_proto.message_type.extend(_label_messages() + _dataset_messages())
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    return pool


POOL = _build_pool()


def message_class(name):
    """The generated message class of `waymo.open_dataset.<name>` (e.g. "Frame", "Label")."""
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(f"{PACKAGE}.{name}"))


Frame = message_class("Frame")
MatrixFloat = message_class("MatrixFloat")
Label = message_class("Label")
LASER_TOP = 1
CAMERA_NAMES = {1: "front", 2: "front_left", 3: "front_right", 4: "side_left", 5: "side_right"}
