"""`keras-suite ravens train|eval`: Transporter Networks trained and evaluated on Ravens."""

from keras_suite.cli.not_built import NotBuiltError


def add_subcommands(ravens_subparsers):
    """Adds the Transporter sub-commands under `keras-suite ravens`."""
    for name in ["train", "eval"]:
        parser = ravens_subparsers.add_parser(name, help=f"Transporter Networks: {name}")
        parser.add_argument("--out", default=f"out/ravens_{name}", help="output folder")
        parser.set_defaults(func=run)


def run(args):
    raise NotBuiltError("ravens train/eval", issue=7)


def run_demo(out_dir):
    """Runs the short Transporter demo, writing into `out_dir`."""
    raise NotBuiltError("ravens train/eval", issue=7)
