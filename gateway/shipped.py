"""What the package carries besides code: the demo samples, the schemas and the documentation.

They live at the top of the repository (``samples/``, ``schemas/``, ``docs/``). The package
reaches them under ``gateway/_data/``: symbolic links to those folders in a checkout, copies in
a wheel (``[tool.setuptools.package-data]`` in ``pyproject.toml`` lists what is shipped). So one
:mod:`importlib.resources` lookup finds them in a checkout, an editable install and an installed
wheel alike, wherever the current directory is.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def shipped(*parts: str) -> Traversable:
    """A shipped file or folder, e.g. ``shipped("docs", "error-codes.md")`` (it may not exist)."""
    found = files("gateway") / "_data"
    for part in parts:
        found = found / part
    return found
