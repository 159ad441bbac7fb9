"""`keras-suite dreamer`: DreamerV2 world models and behaviour learned in imagination."""

from keras_suite.cli.not_built import NotBuiltError


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "dreamer", help="DreamerV2: world models, behaviour learned in imagination, Atari"
    )
    parser.add_argument("--out", default="out/dreamer", help="output folder")
    parser.set_defaults(func=run)
    return parser


def run(args):
    raise NotBuiltError("dreamer", issue=5)


def run_demo(out_dir):
    """Runs the short demo of this system, writing into `out_dir`."""
    raise NotBuiltError("dreamer", issue=5)
