"""`keras-suite ravens`: the Ravens benchmark and Transporter Networks."""

from keras_suite.cli.not_built import NotBuiltError


def add_parser(subparsers):
    parser = subparsers.add_parser("ravens", help="the Ravens benchmark and Transporter Networks")
    parser.add_argument("--out", default="out/ravens", help="output folder")
    parser.set_defaults(func=run)
    return parser


def run(args):
    raise NotBuiltError("ravens", issue=6)


def run_demo(out_dir):
    """Runs the short demo of this system, writing into `out_dir`."""
    raise NotBuiltError("ravens", issue=6)
