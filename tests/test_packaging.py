"""The wheel carries the contracts, fixtures and console script, and an installed copy finds them.

Building needs the build backend's requirements in this environment (`--no-build-isolation`):
setuptools and, for setuptools older than 70.1, the `wheel` package.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import setuptools

import sandbox.settings as settings_module
from sandbox.app import create_app
from sandbox.settings import Settings

ROOT = Path(__file__).parents[1]
SHARE = "share/refund-sandbox"


def _setuptools_has_bdist_wheel() -> bool:
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Iterator[zipfile.ZipFile]:
    assert _setuptools_has_bdist_wheel() or importlib.util.find_spec("wheel") is not None, (
        f"setuptools {setuptools.__version__} builds wheels only with the `wheel` package installed; "
        "add `wheel` to the test dependencies")
    out = tmp_path_factory.mktemp("wheelhouse")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    wheels = list(out.glob("refund_sandbox-*.whl"))
    assert len(wheels) == 1, list(out.iterdir())
    with zipfile.ZipFile(wheels[0]) as archive:
        yield archive


def data_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """`share/refund-sandbox/...` path -> member name, for the wheel's .data/data files."""
    found = {}
    for name in archive.namelist():
        head, sep, rest = name.partition(".data/data/")
        if sep and head.startswith("refund_sandbox-") and "/" not in head:
            found[rest] = name
    return found


def test_wheel_ships_contracts_and_fixtures_as_data_files(wheel):
    members = data_members(wheel)
    for relative in ("contracts/fire.openapi.yaml", "contracts/control.openapi.yaml", "fixtures/fire.json"):
        name = members.get(f"{SHARE}/{relative}")
        assert name is not None, f"{relative} missing from the wheel: {sorted(members)}"
        assert wheel.read(name) == (ROOT / relative).read_bytes()
    # Every contract and fixture of the checkout is shipped, not only the ones named above.
    for path in [*ROOT.glob("contracts/*.yaml"), *ROOT.glob("fixtures/*.json")]:
        assert f"{SHARE}/{path.parent.name}/{path.name}" in members


def test_wheel_declares_the_console_script(wheel):
    entry_points = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert len(entry_points) == 1
    text = wheel.read(entry_points[0]).decode()
    section = text.split("[console_scripts]", 1)[1].split("[", 1)[0]
    scripts = {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in section.splitlines()) if _}
    assert scripts.get("refund-sandbox") == "sandbox.cli:main"


def test_wheel_requires_what_every_readme_command_needs(wheel):
    """`pip install .` must be enough for `contract-test`: schemathesis is no extra, the test tools are."""
    [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [line.split(":", 1)[1].strip() for line in wheel.read(metadata).decode().splitlines()
                if line.startswith("Requires-Dist:")]
    plain = {r.split(";")[0].split(">")[0].split("<")[0].split("=")[0].strip().lower() for r in requires
             if "extra ==" not in r}
    extras = {r.split(">")[0].split("<")[0].strip().lower() for r in requires if 'extra == "test"' in r}
    assert {"flask", "waitress", "schemathesis"} <= plain
    assert "schemathesis" not in extras and {"pytest", "ruff"} <= extras


def test_wheel_holds_the_whole_package(wheel):
    names = set(wheel.namelist())
    for path in (ROOT / "sandbox").rglob("*.py"):
        assert path.relative_to(ROOT).as_posix() in names
    assert not any(n.startswith("tests/") for n in names)


def test_wheel_ships_the_dashboard_templates_and_assets(wheel):
    """The dashboard's templates and static files (htmx with its licence) are package data."""
    names = set(wheel.namelist())
    ui = ROOT / "sandbox" / "ui"
    files = [*ui.glob("templates/*.html"), *ui.glob("static/*")]
    assert any(p.name.startswith("htmx-") and p.suffix == ".js" for p in files)
    assert (ui / "static" / "htmx-LICENSE.txt") in files
    for path in files:
        member = path.relative_to(ROOT).as_posix()
        assert member in names, f"{member} missing from the wheel"
        assert wheel.read(member) == path.read_bytes()


def fake_prefix(root: Path, wheel: zipfile.ZipFile | None = None) -> Path:
    """<root>/share/refund-sandbox/{contracts,fixtures} as an install would lay them out."""
    prefix = root / "prefix"
    if wheel is not None:
        for rest, name in data_members(wheel).items():
            target = prefix / rest
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(wheel.read(name))
    else:
        for name in ("contracts", "fixtures"):
            (prefix / SHARE / name).mkdir(parents=True)
            (prefix / SHARE / name / "placeholder").write_text("x")
    return prefix


def test_environment_overrides_the_data_dirs(tmp_path):
    contracts, fixtures = tmp_path / "c", tmp_path / "f"
    loaded = Settings.load(env={"REFUND_SANDBOX_CONTRACTS_DIR": str(contracts),
                                "REFUND_SANDBOX_FIXTURES_DIR": str(fixtures)})
    assert loaded.contracts_dir == contracts
    assert loaded.fixtures_dir == fixtures
    # An explicit setting beats the environment.
    explicit = Settings.load(env={"REFUND_SANDBOX_CONTRACTS_DIR": str(contracts)}, contracts_dir=tmp_path / "x")
    assert explicit.contracts_dir == tmp_path / "x"


def test_the_checkout_comes_first():
    loaded = Settings.load(env={})
    assert (loaded.contracts_dir, loaded.fixtures_dir) == (ROOT / "contracts", ROOT / "fixtures")


def test_data_dirs_fall_back_to_the_install_prefix(tmp_path, monkeypatch):
    checkout = tmp_path / "site-packages"
    (checkout / "contracts").mkdir(parents=True)  # an empty dir in the checkout's place does not count
    prefix = fake_prefix(tmp_path)
    monkeypatch.setattr(settings_module, "CHECKOUT", checkout)
    monkeypatch.setattr(sys, "prefix", str(prefix))
    loaded = Settings.load(env={})
    assert loaded.contracts_dir == prefix / SHARE / "contracts"
    assert loaded.fixtures_dir == prefix / SHARE / "fixtures"
    # The environment still wins over the prefix.
    override = tmp_path / "mine"
    assert Settings.load(env={"REFUND_SANDBOX_FIXTURES_DIR": str(override)}).fixtures_dir == override


def test_an_app_runs_from_the_installed_layout(wheel, tmp_path, monkeypatch):
    """The data files as the wheel installs them are enough to build and serve the app."""
    prefix = fake_prefix(tmp_path, wheel)
    monkeypatch.setattr(settings_module, "CHECKOUT", tmp_path / "empty")
    monkeypatch.setattr(sys, "prefix", str(prefix))
    loaded = Settings.load(env={}, log_requests=False)
    assert loaded.contracts_dir == prefix / SHARE / "contracts"
    app = create_app(loaded)
    try:
        client = app.test_client()
        assert client.get("/_sandbox/health").status_code == 200
        assert client.get("/fire/openapi.json").get_json()["servers"] == [{"url": "/fire"}]
        assert client.get("/_sandbox/openapi.json").status_code == 200
        order = client.get("/_sandbox/fire/orders/550e8400-e29b-41d4-a716-446655440000")
        assert order.status_code == 200 and order.get_json()["order"]["status"] == "CREATED"
    finally:
        app.extensions["refund_sandbox"].store.close()
