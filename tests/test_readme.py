"""The README's Python blocks run as shown, with every warning an error.

The blocks fit at the defaults, which takes minutes: that check is marked
``slow`` (``pytest -m slow``). The default run executes the same blocks with
every autoencoder capped at a few epochs, so the code the README shows is
still checked to run, with every warning except ``ConvergenceWarning`` an
error.
"""

import re
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
ESTIMATOR_CALL = re.compile(
    r"\b(AutoencoderTransformer|DenoisingAutoencoder|"
    r"VariationalAutoencoder|StackedAutoencoderClassifier)\("
)


def _run(block, name):
    exec(compile(block, name, "exec"), {})


def test_the_readme_has_python_blocks():
    assert BLOCKS


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs_without_warnings(index):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run(BLOCKS[index], f"README.md block {index}")


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs_with_short_fits(index):
    block, n_calls = ESTIMATOR_CALL.subn(r"\1(max_iter=3, ", BLOCKS[index])
    if n_calls == 0:
        pytest.skip("no estimator in this block: the slow test covers it")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        _run(block, f"README.md block {index}, max_iter=3")
