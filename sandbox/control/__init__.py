"""The /_sandbox control plane: health, catalogue, scenarios, reset, inspection, credentials, clock.

`FALLBACK` is what the core pipeline needs of it: the control plane owns every path no
provider owns, answers errors in its own format and is described by contracts/control.openapi.yaml.
"""

from sandbox.control.errors import render
from sandbox.control.routes import bp
from sandbox.core import Fallback

CONTRACT = "control"
FALLBACK = Fallback(key=bp.name, render=render, contract=CONTRACT)

__all__ = ["CONTRACT", "FALLBACK", "bp"]
