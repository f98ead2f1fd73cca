"""Every shell command the README shows, run as written against a live sandbox.

Each ```sh block runs in bash (set -euo pipefail, and curl with --fail so an HTTP error fails
the block) with the sandbox's port put in place of 8080 and 18080; the sandbox is reset
before each block. Not run here: the `docker` block (see
tests/test_container.py) and the two set-up commands at the top (CI runs the test command;
`serve` from an installed package is tests/test_cli.py and tests/test_packaging.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT
from live_server import free_port, running

BLOCK = re.compile(r"^```sh\n(.*?)^```", re.M | re.S)


def readme_blocks() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = []
    for match in BLOCK.finditer(text):
        heading = [h for h in re.findall(r"^#+ (.+)$", text[: match.start()], re.M)][-1]
        if "docker " in match.group(1):
            continue
        blocks.append((f"{heading} #{sum(1 for h, _ in blocks if h == heading) + 1}", match.group(1)))
    return blocks


BLOCKS = readme_blocks()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running(tmp_path_factory.mktemp("readme")) as server:
        yield server


def test_the_readme_shows_commands_for_every_provider():
    text = "\n".join(block for _, block in BLOCKS)
    for mount in ("/fire/", "/purpledot/", "/nuweb/", "/shoplazza/", "/nextcommerce/", "/_sandbox/faults"):
        assert mount in text, f"no README command uses {mount}"


def test_the_scenario_table_lists_every_scenario():
    """The README's scenario table names every scenario the sandbox serves (and no other)."""
    from sandbox.providers import PROVIDERS

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Scenarios"):]
    section = section[: section.index("\n## ", 1)]
    listed = re.findall(r"^\| `([a-z]+\.[a-z_]+)` \|", section, re.M)
    served = [s.name for p in PROVIDERS for s in p.scenarios]
    assert sorted(listed) == sorted(served)


@pytest.mark.parametrize("heading, block", BLOCKS, ids=[h for h, _ in BLOCKS])
def test_readme_block_runs(live, tmp_path, heading, block):
    live.request("POST", "/_sandbox/reset")
    live.request("DELETE", "/_sandbox/faults")
    script = block.replace("18080", str(free_port()))  # the CI snippet's own server
    script = script.replace("localhost:8080", f"127.0.0.1:{live.port}").replace("127.0.0.1:8080",
                                                                                  f"127.0.0.1:{live.port}")
    env = {**{k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")},
           "PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '')}"}
    prelude = "set -euo pipefail\ncurl() { command curl --fail \"$@\"; }  # an HTTP error fails the block\n"
    done = subprocess.run(["bash", "-c", prelude + script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{heading}:\n{script}\n--- stdout\n{done.stdout[-2000:]}\n--- stderr\n" \
                                 f"{done.stderr[-2000:]}"
    assert done.stdout.strip(), f"{heading}: printed nothing"
    assert "Traceback" not in done.stderr
