"""Shared machinery for every provider; imports nothing from `sandbox.providers` or `sandbox.control`.

`install(app, fallback)` registers the request pipeline (sandbox.core.pipeline), whose steps
are listed there, in order, in one place.
"""

from __future__ import annotations

from sandbox.core.pipeline import Fallback, install

__all__ = ["Fallback", "install"]
