"""Runs every guide: its ```python blocks in order, in one namespace, in a fresh process.

Each guide runs in its own subprocess, in an empty temporary working directory, so that a guide
that fails or is slow shows as its own test, and no guide sees another's files or names.
"""

import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUIDES_DIR = os.path.join(ROOT, "guides")
GUIDES = sorted(name for name in os.listdir(GUIDES_DIR) if name.endswith(".md"))
#: Seconds a guide may take, all of its blocks together (they are meant to take under a minute).
TIMEOUT = 600

# Runs the blocks (a JSON list on standard input) of the guide named by argv[1], naming each on
# standard error before it runs; a failure prints the traceback and names the block.
_RUNNER = r"""
import faulthandler
import json
import sys
import traceback

faulthandler.enable()  # A crash in native code still names the block and the line.
guide, blocks = sys.argv[1], json.load(sys.stdin)
namespace = {"__name__": "__guide__"}
for index, block in enumerate(blocks):
    print(f"{guide}: python block {index + 1} of {len(blocks)}", file=sys.stderr, flush=True)
    try:
        exec(compile(block, f"{guide}, python block {index + 1}", "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        sys.exit(f"{guide}: python block {index + 1} of {len(blocks)} failed")
"""


def python_blocks(text):
    """The ```python blocks of a Markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_python_blocks_are_found_in_order():
    text = "# T\n```python\na = 1\n```\n```sh\nls\n```\n```python\nb = a\n\nc = 2\n```\n"
    assert python_blocks(text) == ["a = 1\n", "b = a\n\nc = 2\n"]


@pytest.mark.slow
@pytest.mark.parametrize("guide", GUIDES)
def test_guide_runs(guide, tmp_path):
    with open(os.path.join(GUIDES_DIR, guide)) as f:
        blocks = python_blocks(f.read())
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, guide],
        input=json.dumps(blocks),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-5000:]
