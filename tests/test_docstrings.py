"""Every public class and function documents itself with examples that run.

The examples themselves run as doctests in the default pytest run
(``--doctest-modules`` over the ``skae`` package, see pyproject.toml); these
tests make sure that none is missing and none is switched off without a
reason.
"""

import doctest
import inspect
import re
from pathlib import Path

import pytest

import skae
import skae.datasets
import skae.exceptions
import skae.onnx
import skae.plotting

PUBLIC_MODULES = [skae, skae.datasets, skae.exceptions, skae.onnx, skae.plotting]
SOURCE = Path(skae.__file__).parent


def _public_objects():
    """(qualified name, object) of every public class and function."""
    objects = {}
    for module in PUBLIC_MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):  # not constants
                objects[f"{module.__name__}.{name}"] = obj
    return sorted(objects.items())


PUBLIC_OBJECTS = _public_objects()


def _section(doc, title):
    """The body of a numpydoc section, or None."""
    heading = rf"^{title}\n-{{{len(title)}}}\n"
    match = re.search(heading + r"(.*?)(?=^\S[^\n]*\n-+\n|\Z)", doc, re.M | re.S)
    return match.group(1) if match else None


def test_the_public_api_is_all_here():
    names = [name for name, _ in PUBLIC_OBJECTS]
    for expected in [
        "skae.AutoencoderTransformer",
        "skae.StackedAutoencoderClassifier",
        "skae.load",
        "skae.save",
        "skae.datasets.load_mnist",
        "skae.plotting.plot_loss_curve",
        "skae.onnx.register_converters",
        "skae.exceptions.SkaeVersionWarning",
    ]:
        assert expected in names


@pytest.mark.parametrize("name, obj", PUBLIC_OBJECTS, ids=[name for name, _ in PUBLIC_OBJECTS])
def test_public_object_has_examples_that_run(name, obj):
    doc = inspect.getdoc(obj)
    examples = _section(doc, "Examples")
    assert examples is not None, f"{name}'s docstring has no Examples section."
    parsed = doctest.DocTestParser().get_examples(examples)
    running = [ex for ex in parsed if not ex.options.get(doctest.SKIP)]
    assert running, f"{name}'s Examples section has no example that runs as a doctest."
    assert any(ex.want for ex in running), f"{name}'s examples check no output."


@pytest.mark.parametrize("name, obj", PUBLIC_OBJECTS, ids=[name for name, _ in PUBLIC_OBJECTS])
def test_references_are_cited(name, obj):
    # numpydoc renders ``.. [n]`` entries as citations, linked from ``[n]_``.
    doc = inspect.getdoc(obj)
    references = _section(doc, "References") or ""
    labels = re.findall(r"^\.\. \[(\w+)\]", references, re.M)
    text = doc.replace(references, "")
    for label in labels:
        assert f"[{label}]_" in text, f"{name} lists reference [{label}] but never cites it."


def test_every_skipped_example_says_why():
    # A run of +SKIP examples follows a ``>>> # reason`` comment line.
    problems = []
    for path in sorted(SOURCE.glob("*.py")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if "doctest: +SKIP" not in line:
                continue
            j = i - 1
            while j >= 0 and ("doctest: +SKIP" in lines[j] or ">>>" not in lines[j]):
                if not lines[j].strip():  # a blank line ends the example block
                    break
                j -= 1
            if j < 0 or not lines[j].strip().startswith(">>> #"):
                problems.append(f"{path.name}:{i + 1}: {line.strip()}")
    assert not problems, "+SKIP without a '>>> # reason' line before it:\n" + "\n".join(problems)
