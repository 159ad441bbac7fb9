"""`keras-suite search`: Model Search on a built-in dataset (sklearn digits, mnist1d)."""

from keras_suite.cli.not_built import NotBuiltError


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "search", help="Model Search on a built-in dataset (sklearn digits, mnist1d)"
    )
    parser.add_argument("--out", default="out/search", help="output folder")
    parser.set_defaults(func=run)
    return parser


def run(args):
    raise NotBuiltError("search", issue=8)


def run_demo(out_dir):
    """Runs the short demo of this system, writing into `out_dir`."""
    raise NotBuiltError("search", issue=8)
