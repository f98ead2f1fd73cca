"""The provider x operation x status table: which documented answer was produced, natively or
only through an injected fault, and validated against its contract in this session.

conftest.py gathers what every app's self-check saw and calls `judge` when the session
finishes, so the check does not depend on test order. On a full run (no -k, -m, --lf, no
explicit paths, nothing deselected) every documented answer must have been produced and
validated, every answer the sandbox gives by itself (not a shared `Injected<status>`
response) must have been produced without a fault, and the table in the README must be this
table. A partial run prints the table and judges nothing it could not have produced.
"""

from __future__ import annotations

import re
from pathlib import Path

from sandbox.core.contracts import Contracts

BEGIN, END = "<!-- status-table -->", "<!-- /status-table -->"


def table(contracts: Contracts, seen: set, native: set) -> str:
    """The table as Markdown: one row per operation, one column per status. N: the sandbox gave
    it by itself (a fault can too), I: only an injected fault gave it, -: not declared, ?: not
    produced in this run; every answer produced was validated against the contract."""
    statuses = sorted({s for op in contracts.operations.values() if op.owner != "control"
                       for s in op.statuses if s >= 300})
    lines = ["| provider | operation | " + " | ".join(map(str, statuses)) + " |",
             "|---|---|" + "---:|" * len(statuses)]
    for (owner, operation_id), op in sorted(contracts.operations.items()):
        if owner == "control":
            continue
        cells = []
        for status in statuses:
            key = (owner, operation_id, status)
            if status not in op.statuses:
                cells.append("-")
            elif key in native:
                cells.append("N")
            elif key in seen:
                cells.append("I")
            else:
                cells.append("?")
        lines.append(f"| {owner} | {operation_id} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def readme_table(readme: Path) -> str | None:
    match = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), readme.read_text(encoding="utf-8"), re.S)
    return match.group(1).strip() if match else None


def judge(contracts: Contracts, seen: set, native: set, readme: Path, full_run: bool) -> tuple[str, list[str]]:
    """(the table, the problems); problems only on a full run."""
    text = table(contracts, seen, native)
    if not full_run:
        return text, []
    problems = []
    missing = sorted(contracts.documented() - seen)
    if missing:
        problems.append(f"documented but never produced and validated: {missing}")
    not_native = sorted(contracts.documented_native() - native)
    if not_native:
        problems.append(f"documented as the sandbox's own answer but produced only by a fault (or never): "
                        f"{not_native}")
    if readme_table(readme) != text:
        problems.append(f"the README's status table (between {BEGIN} and {END}) is not this run's table:\n{text}")
    return text, problems
