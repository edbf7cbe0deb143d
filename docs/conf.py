"""Sphinx configuration of skae's documentation."""

import os
import warnings

import skae

project = "skae"
author = "The skae developers"
copyright = "2026, the skae developers"
release = version = skae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
# Document skae's own methods, inherited ones included, but not the generic
# scikit-learn ones (get_params, set_output...), documented by scikit-learn.
autodoc_default_options = {
    "members": True,
    "inherited-members": "BaseEstimator,TransformerMixin,ClassifierMixin,"
    "ClassNamePrefixFeaturesOutMixin,_SetOutputMixin,_MetadataRequester,object",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]
html_theme = "alabaster"
html_static_path = []

# The build must not reach the internet (CI has none): no intersphinx fetches.
intersphinx_mapping = {}

# Examples run on every build, single-threaded (small data: threads only add
# overhead) and without training-length warnings cluttering the output.
os.environ.setdefault("OMP_NUM_THREADS", "1")
warnings.filterwarnings("ignore", message=".*maximum iterations.*")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")


def _skip_sklearn_members(app, what, name, obj, skip, options):
    # Private and dunder members (_fit, __sklearn_tags__...) are not API.
    # Methods skae inherits from scikit-learn (score, set_output, the
    # metadata-routing set_*_request...) are documented by scikit-learn.
    # Otherwise no opinion (None), so that autodoc's own rules decide:
    # returning its ``skip`` argument (False) would force members in.
    module = getattr(obj, "__module__", None) or ""
    if name.startswith("_"):
        return True
    if module.startswith("sklearn") or (name.startswith("set_") and name.endswith("_request")):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_members)


sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "matplotlib_animations": False,
}
