"""The `keras-suite` command: one sub-command per system, and `demo` to run them all."""

import argparse
import os
import sys
import time
import traceback

from keras_suite.cli import dreamer, ravens, search, tf3d
from keras_suite.cli.not_built import NotBuiltError

SYSTEMS = {"search": search, "dreamer": dreamer, "ravens": ravens, "tf3d": tf3d}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-suite",
        description="Model Search, DreamerV2, Transporter Networks + Ravens and TensorFlow 3D "
        "in Keras.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in SYSTEMS.values():
        module.add_parser(subparsers)
    demo = subparsers.add_parser(
        "demo", help="run each available system's short demo on the built-in defaults"
    )
    demo.add_argument("--out", default="demo_out", help="output folder, one sub-folder a system")
    demo.add_argument(
        "--only", nargs="+", choices=sorted(SYSTEMS), help="run only these systems' demos"
    )
    demo.set_defaults(func=run_demo)
    return parser


def run_demo(args):
    """Runs every system's demo in turn; returns 0 unless a built system's demo failed."""
    failed = []
    for name in args.only or SYSTEMS:
        print(f"== keras-suite {name} (demo) ==", flush=True)
        start = time.time()
        try:
            SYSTEMS[name].run_demo(os.path.join(args.out, name))
        except NotBuiltError as error:
            print(f"skipped: {error}", flush=True)
            continue
        except Exception:
            traceback.print_exc()
            failed.append(name)
            print(f"failed: the {name} demo raised the error above", flush=True)
            continue
        print(f"done in {time.time() - start:.0f} s; results in {args.out}/{name}", flush=True)
    if failed:
        print(f"demos that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except NotBuiltError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
