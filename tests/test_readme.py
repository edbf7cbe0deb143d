"""The README's Python blocks run as shown, with every warning an error."""

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_python_blocks():
    assert BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs_without_warnings(index):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {})
