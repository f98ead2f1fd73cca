"""The /_sandbox control plane: health, catalogue, scenarios, reset, inspection, credentials, clock."""

from sandbox.control.routes import bp

__all__ = ["bp"]
