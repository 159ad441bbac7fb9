"""`keras-suite tf3d`: TensorFlow 3D: sparse 3D segmentation and detection."""

from keras_suite.cli.not_built import NotBuiltError


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "tf3d", help="TensorFlow 3D: sparse 3D segmentation and detection"
    )
    parser.add_argument("--out", default="out/tf3d", help="output folder")
    parser.set_defaults(func=run)
    return parser


def run(args):
    raise NotBuiltError("tf3d", issue=3)


def run_demo(out_dir):
    """Runs the short demo of this system, writing into `out_dir`."""
    raise NotBuiltError("tf3d", issue=3)
