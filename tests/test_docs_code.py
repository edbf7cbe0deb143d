"""The Python blocks of the documentation's pages run, in order, page by page.

Each page's ``.. code-block:: python`` blocks run in one namespace (a block
may use what an earlier one defined), in a temporary folder (they write
model files and MLflow stores), with every skae estimator capped at a few
epochs: the code the pages show is checked to run, not its figures. A
block that needs a real cluster (a scheduler's address) is skipped.
"""

import ast
import re
import textwrap
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

DOCS = Path(__file__).resolve().parents[1] / "docs"
ESTIMATORS = {
    "AutoencoderTransformer",
    "DenoisingAutoencoder",
    "VariationalAutoencoder",
    "StackedAutoencoderClassifier",
}
SHORT_FIT = 3  # epochs
NEEDS_A_CLUSTER = re.compile(r"Client\(\s*[\"']tcp://")
DIRECTIVE = re.compile(r"^(\s*)\.\. code-block:: python\s*$")


def python_blocks(text):
    """The source of every ``.. code-block:: python`` in reStructuredText ``text``."""
    lines, blocks = text.splitlines(), []
    for number, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if not match:
            continue
        indent, body = len(match.group(1)), []
        for following in lines[number + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        source = textwrap.dedent("\n".join(body))
        # Directive options (":caption: ...") come first; then the code.
        blocks.append(re.sub(r"\A(\s*:[\w-]+:.*\n)*", "", source).strip("\n"))
    return blocks


class _ShortFits(ast.NodeTransformer):
    """Give every call of a skae estimator ``max_iter=SHORT_FIT``."""

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in ESTIMATORS:
            node.keywords = [k for k in node.keywords if k.arg != "max_iter"]
            node.keywords.append(ast.keyword("max_iter", ast.Constant(SHORT_FIT)))
        return node


def short_fits(source):
    """``source`` with every skae estimator it builds capped at SHORT_FIT epochs."""
    return ast.unparse(ast.fix_missing_locations(_ShortFits().visit(ast.parse(source))))


PAGES = {
    str(page.relative_to(DOCS)): blocks
    for page in sorted([*DOCS.glob("*.rst"), *DOCS.glob("user_guide/*.rst")])
    if (blocks := python_blocks(page.read_text()))
}


def test_the_parser_finds_blocks_and_their_code():
    text = ".. code-block:: python\n   :caption: x\n\n   a = 1\n\n   b = a\n\nProse.\n"
    assert python_blocks(text) == ["a = 1\n\nb = a"]
    assert "max_iter=3" in short_fits("skae.AutoencoderTransformer(8, max_iter=500)")
    assert {"index.rst", "scaling.rst", "user_guide/persistence.rst"} <= set(PAGES)


@pytest.mark.parametrize("page", [p for p in PAGES if p != "developer_guide.rst"])
def test_page_blocks_run_with_short_fits(page, tmp_path, monkeypatch):
    # The developer guide's block is a module of skae itself (relative
    # imports), shown as a pattern to copy, not run.
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs_block"}
    mlflow = None
    if any("mlflow" in block for block in PAGES[page]):
        import mlflow

        # The blocks set mlflow's (process-wide) tracking URI: put it back.
        monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        tracking_uri = mlflow.get_tracking_uri()
    try:
        for index, block in enumerate(PAGES[page]):
            if NEEDS_A_CLUSTER.search(block):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                exec(compile(short_fits(block), f"{page} block {index}", "exec"), namespace)
    finally:
        if mlflow is not None:
            mlflow.set_tracking_uri(tracking_uri)
