"""The QA dashboard at /_sandbox/ui: server-rendered pages over the control plane's own functions.

`blueprint` owns the Blueprint, the tenant a page shows and the error pages; `guard` the
control-token login, the session cookie and CSRF; `pages` the read-only views; `forms` the
state-changing ones; `ledger`, `choices` and `exchanges` are pure helpers (refund state of
an order, form choices read from the contracts, journal entries as the timeline shows them).
htmx (vendored in static/, with its licence) polls the timeline; every read-only page works
without JavaScript.
"""

from sandbox.ui import forms, guard, pages  # noqa: F401  (they register their views on bp)
from sandbox.ui.blueprint import bp

__all__ = ["bp"]
