"""The `keras-suite` command: one sub-command per system, and `demo` to run them all.

Building the parser imports only the sub-command modules, which import nothing heavy at their
top, so `keras-suite --help` answers at once; a handler imports what it needs when it runs.

The command is quiet by default. TensorFlow 2.21 writes its start-up lines (oneDNN,
`cpu_feature_guard`, "All log messages before absl::InitializeLog() ...") and Grappler's E-level
lines from C++ straight to file descriptor 2, whatever `TF_CPP_MIN_LOG_LEVEL` says, and pybullet
prints its build time to descriptor 1. So while a command runs, descriptors 1 and 2 point to the
null device and Python's `sys.stdout` and `sys.stderr` (results, progress bars, errors) to copies
of the real ones (a native crash's Python traceback goes there too); Python warnings and the
`tensorflow` and `absl` loggers below ERROR are silenced. No numerics change (oneDNN stays on).
`--verbose` keeps everything.

An error is one line on standard error and exit status 2 for a user error (a bad value, a missing
file or folder), 1 for any other error; `--debug` adds the traceback.
"""

import argparse
import contextlib
import ctypes
import faulthandler
import logging
import os
import sys
import time
import traceback
import warnings

from keras_suite.cli import dreamer, ravens, search, tf3d

SYSTEMS = {"search": search, "dreamer": dreamer, "ravens": ravens, "tf3d": tf3d}
#: Errors that come from what the user asked for: exit status 2, no traceback.
USER_ERRORS = (ValueError, FileNotFoundError, NotADirectoryError)
EXIT_USER_ERROR = 2
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def build_parser():
    """The `keras-suite` argument parser, with every system's sub-command and `demo`."""
    parser = argparse.ArgumentParser(
        prog="keras-suite",
        description="Model Search, DreamerV2, Transporter Networks + Ravens and TensorFlow 3D "
        "in Keras.",
    )
    _add_global_options(parser, default=False)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in SYSTEMS.values():
        module.add_parser(subparsers)
    demo = subparsers.add_parser(
        "demo", help="run every system's short demo on the built-in defaults"
    )
    demo.add_argument("--out", default="demo_out", help="output folder, one sub-folder a system")
    demo.add_argument(
        "--only", nargs="+", choices=sorted(SYSTEMS), help="run only these systems' demos"
    )
    demo.set_defaults(func=run_demo)
    _add_global_options_to_sub_commands(parser)
    return parser


def _add_global_options_to_sub_commands(parser):
    """Accepts `--verbose` and `--debug` after any sub-command too (`ravens train --debug`)."""
    for action in parser._actions:  # argparse lists sub-commands only in this private list.
        if isinstance(action, argparse._SubParsersAction):
            for sub_command in action.choices.values():
                # SUPPRESS: a value given before the sub-command is not reset.
                _add_global_options(sub_command, default=argparse.SUPPRESS)
                _add_global_options_to_sub_commands(sub_command)


def _add_global_options(parser, default):
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=default,
        help="show TensorFlow's and the libraries' log lines and warnings",
    )
    parser.add_argument(
        "--debug", action="store_true", default=default, help="show the traceback of an error"
    )


def run_demo(args):
    """Runs every system's demo in turn; returns 0 unless one of them failed."""
    failed = []
    for name in args.only or SYSTEMS:
        out_dir = os.path.join(args.out, name)
        print(f"== keras-suite {name} (demo) ==", flush=True)
        start = time.time()
        try:
            SYSTEMS[name].run_demo(out_dir)
        except Exception as error:
            if args.debug:
                traceback.print_exc()
            print(f"failed: the {name} demo raised {_one_line(error)}", file=sys.stderr)
            failed.append(name)
            continue
        print(f"done in {time.time() - start:.0f} s; results in {out_dir}", flush=True)
    if failed:
        hint = "" if args.debug else " (rerun with --debug for the tracebacks)"
        print(f"keras-suite: error: demos that failed: {', '.join(failed)}{hint}", file=sys.stderr)
        return EXIT_ERROR
    return 0


def main(argv=None):
    """Runs `keras-suite` with `argv` (default: the process's arguments); returns the status."""
    args = build_parser().parse_args(argv)
    quiet = contextlib.nullcontext() if args.verbose else _quiet()
    with quiet:
        try:
            return args.func(args) or 0
        except KeyboardInterrupt:
            print("keras-suite: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Exception as error:
            if args.debug:
                traceback.print_exc()
            user_error = isinstance(error, USER_ERRORS)
            hint = "" if args.debug or user_error else " (rerun with --debug for the traceback)"
            print(f"keras-suite: error: {_one_line(error)}{hint}", file=sys.stderr)
            return EXIT_USER_ERROR if user_error else EXIT_ERROR


def _one_line(error):
    """The error's message, prefixed by its type unless it is a user error."""
    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, USER_ERRORS):
        return message
    return f"{type(error).__name__}: {message}"


@contextlib.contextmanager
def _quiet():
    """Silences TensorFlow's C++ logs, Python warnings and chatty loggers while a command runs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    loggers = {name: logging.getLogger(name) for name in ("tensorflow", "absl")}
    levels = {name: logger.level for name, logger in loggers.items()}
    for logger in loggers.values():
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), _native_output_to_null():
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, logger in loggers.items():
            logger.setLevel(levels[name])


@contextlib.contextmanager
def _native_output_to_null():
    """Points file descriptors 1 and 2 to the null device, and Python's streams to the real ones.

    Libraries that write from C (TensorFlow's logs, pybullet's build banner) then write nowhere,
    while `print` and `sys.stderr` reach the terminal. Only the streams that are still the
    process's own are moved: a caller that replaced one (a test harness, a notebook) keeps it.
    """
    moved = []
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = getattr(sys, name)
        if stream is None or stream is not getattr(sys, f"__{name}__"):
            continue
        stream.flush()
        real = os.dup(fd)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
        copy = os.fdopen(
            real, "w", buffering=1, encoding=stream.encoding, errors=stream.errors, closefd=False
        )
        setattr(sys, name, copy)
        moved.append((fd, name, real, copy))
    if moved and moved[-1][1] == "stderr":
        faulthandler.enable(file=moved[-1][3])  # A native crash still says where it happened.
    try:
        yield
    finally:
        if moved:
            _flush_c_streams()
        if faulthandler.is_enabled():
            faulthandler.disable()
        for fd, name, real, copy in moved:
            copy.flush()
            setattr(sys, name, getattr(sys, f"__{name}__"))
            os.dup2(real, fd)
            os.close(real)


def _flush_c_streams():
    """Flushes C's buffered `stdout`, so that what C code wrote goes to the null device too."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):
        pass  # No C library to flush through (not a POSIX system).


if __name__ == "__main__":
    sys.exit(main())
