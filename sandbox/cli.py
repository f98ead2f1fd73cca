"""`refund-sandbox`: serve, scenarios, seed, reset.

`serve` runs the app on granian (sandbox/serving.py: a main process and one forked worker with
`--threads` WSGI threads), logging one line per request.
`seed` and `reset` talk to a running sandbox with `--url`, or work offline on `--data-dir`.
"""

from __future__ import annotations

import json
import logging
import sys
import urllib.error
import urllib.request
from pathlib import Path

import click

from sandbox.settings import ConfigError, Settings

CONTROL_TOKEN_ENV = "REFUND_SANDBOX_CONTROL_TOKEN"


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="refund-sandbox")
def main() -> None:
    """Stateful fakes of the Fire, Purple Dot, Nuweb, Shoplazza and Next Commerce refund APIs."""


@main.command()
@click.option("--host", default=None, help="Interface to bind [127.0.0.1].")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port [8080]; 0 picks a free one.")
@click.option("--only", default=None, help="Mount just this provider, at / instead of /<key>.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Persist tenants here (survives restarts and kill -9).")
@click.option("--strict-auth", is_flag=True, default=None, help="Accept only registered or issued credentials.")
@click.option("--validate-responses", is_flag=True, default=None, help="Check every response against its contract.")
@click.option("--threads", type=click.IntRange(1, 1024), default=None,
              help="WSGI threads [1]; more let delay and hold faults run beside other requests.")
@click.option("--header-timeout-ms", type=click.IntRange(100, 60_000), default=None,
              help="Cut off a client whose request head is unfinished, or idle keep-alive, this long [30000].")
@click.option("--webhook-url", default=None, help="Also POST every notification here (with retries).")
@click.option("--control-token", default=None, help="Require X-Sandbox-Control-Token on /_sandbox (health excepted).")
@click.option("--store", default=None, metavar="redis://HOST:PORT/DB",
              help="Keep all state in this Redis, shared by every process pointed at it.")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Worker processes [1]; above 1 needs --store.")
def serve(host, port, only, data_dir, strict_auth, validate_responses, threads, header_timeout_ms, webhook_url,
          control_token, store, workers) -> None:
    """Serve every provider (or --only one) and the /_sandbox control plane."""
    from sandbox.app import create_app
    from sandbox.serving import FrontServer

    _configure_logging()
    try:  # every foreseeable start-up failure is one line naming the way out, never a traceback
        settings = Settings.load(host=host, port=port, only=only, data_dir=data_dir, strict_auth=strict_auth,
                                 validate_responses=validate_responses, threads=threads,
                                 header_timeout_ms=header_timeout_ms, webhook_url=webhook_url,
                                 control_token=control_token, store=store, workers=workers)
        app = create_app(settings)
        runtime = app.extensions["refund_sandbox"]
        server = FrontServer(app, host=settings.host, port=settings.port, threads=settings.threads,
                             header_timeout_ms=settings.header_timeout_ms, workers=settings.workers)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None

    if not settings.control_token and not _loopback(settings.host):
        logging.getLogger("sandbox").warning(
            "listening on %s beyond loopback without --control-token: anyone who reaches this port can reset "
            "tenants, register credentials and inject faults (set --control-token or REFUND_SANDBOX_CONTROL_TOKEN)",
            settings.host)
    mounts = ", ".join(f"{k} at {runtime.mount(k) or '/'}" for k in runtime.providers)

    def started() -> None:
        logging.getLogger("sandbox").info("refund-sandbox serving http://%s:%s (%s; control at /_sandbox)",
                                          settings.host, server.port, mounts)

    # until SIGTERM or Ctrl-C, then, in the worker after its last answer, close the tenants' files; exit 0
    server.serve(on_start=started, cleanup=runtime.close)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def scenarios(as_json: bool) -> None:
    """List the scenario catalogue."""
    from sandbox.control.actions import catalogue
    from sandbox.providers import PROVIDERS

    listed = catalogue(PROVIDERS)
    if as_json:  # the very document GET /_sandbox/scenarios answers
        click.echo(json.dumps(listed, indent=2))
        return
    items = listed["scenarios"]
    width = max(len(item["name"]) for item in items)
    for item in items:
        click.echo(f"{item['name']:<{width}}  {item['outcome']}")


def _call(method: str, path: str, body: dict | None, tenant: str | None, url: str | None,
          data_dir: Path | None, control_token: str | None = None) -> dict:
    """POST to a running sandbox (`url`) or to an in-process app over `data_dir`."""
    headers = {"Content-Type": "application/json"}
    if tenant:
        headers["X-Sandbox-Tenant"] = tenant
    if control_token:
        headers["X-Sandbox-Control-Token"] = control_token
    from sandbox.core.tenancy import NAME

    for name, value in headers.items():  # HTTP header values are Latin-1 at best
        if not value.isascii() or not value.isprintable():
            raise click.ClickException(f"{name} {value!r} is not printable ASCII, so it cannot be sent as a header"
                                       + (f" (tenant names match {NAME.pattern})" if name == "X-Sandbox-Tenant"
                                          else ""))
    payload = json.dumps(body or {}).encode()
    if url:
        req = urllib.request.Request(url.rstrip("/") + path, data=payload, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            hint = ""
            if exc.code == 401 and exc.headers.get("X-Sandbox-Provider") == "_sandbox":
                hint = (" (this sandbox runs with --control-token: pass it with --control-token or "
                        f"{CONTROL_TOKEN_ENV})")
            raise click.ClickException(f"{exc.code}: {exc.read().decode(errors='replace')}{hint}") from None
        except urllib.error.URLError as exc:
            raise click.ClickException(f"cannot reach {url}: {exc.reason}") from None
    if data_dir is None:
        raise click.UsageError("give --url of a running sandbox, or --data-dir to work offline")
    from sandbox.app import create_app

    try:
        app = create_app(Settings.load(data_dir=data_dir, log_requests=False))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        response = app.test_client().open(path, method=method, data=payload, headers=headers)
        if response.status_code >= 400:
            raise click.ClickException(f"{response.status_code}: {response.get_data(as_text=True)}")
        return response.get_json()
    finally:
        app.extensions["refund_sandbox"].store.close()


def _overrides(pairs: tuple[str, ...]) -> dict:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--override")
        try:
            result[key] = json.loads(value)
        except ValueError:
            result[key] = value
    return result


URL_OPTION = click.option("--url", default=None, help="A running sandbox, e.g. http://127.0.0.1:8080.")
DATA_DIR_OPTION = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Work offline instead of --url: write straight into the data directory a server started with "
         "`serve --data-dir DIR` loads (stop that server first; it reads the directory at start).")
CONTROL_TOKEN_OPTION = click.option(
    "--control-token", envvar=CONTROL_TOKEN_ENV, default=None, show_envvar=True,
    help="The token of a sandbox started with --control-token (sent as X-Sandbox-Control-Token).")


@main.command()
@click.argument("scenario")
@click.option("--count", type=int, default=1, show_default=True)
@click.option("--seed", type=int, default=None, help="Same seed, same orders.")
@click.option("--tenant", default=None, help="Tenant to seed [default].")
@click.option("--override", "overrides", multiple=True, metavar="KEY=VALUE", help="Override an order field.")
@URL_OPTION
@DATA_DIR_OPTION
@CONTROL_TOKEN_OPTION
def seed(scenario, count, seed, tenant, overrides, url, data_dir, control_token) -> None:
    """Seed SCENARIO and print its JSON (order refs, headers, orders)."""
    body = {"count": count, "overrides": _overrides(overrides)}
    if seed is not None:
        body["seed"] = seed
    result = _call("POST", f"/_sandbox/scenarios/{scenario}", body, tenant, url, data_dir, control_token)
    click.echo(json.dumps(result, indent=2))


@main.command("contract-test")
@click.option("--provider", required=True, help="Whose bundled contract: fire, purpledot, nuweb, shoplazza, "
              "nextcommerce or control.")
@click.option("--base-url", required=True, help="The API under test, e.g. http://127.0.0.1:8080/nuweb.")
@click.option("--header", "headers", multiple=True, metavar="'NAME: VALUE'", help="Sent with every request.")
@click.option("--max-examples", type=int, default=25, show_default=True, help="Fuzzed examples per operation.")
@click.option("--seed", type=int, default=20261123, show_default=True, help="Same seed, same requests.")
@click.option("--junit-xml", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a JUnit XML report here.")
def contract_test(provider, base_url, headers, max_examples, seed, junit_xml) -> None:
    """Check any server implementing a bundled contract (this sandbox or a real staging API)."""
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "contract-test needs schemathesis, a dependency of refund-sandbox that is missing from this "
            "environment: reinstall the package (in the checkout: pip install .)") from None
    from sandbox.contract_test import NOTES, TENANT_HEADER, fresh_tenant, run, tenant_header

    headers = list(headers)
    tenant = tenant_header(headers)
    if tenant is None:
        tenant = fresh_tenant()
        headers.append(f"{TENANT_HEADER}: {tenant}")
        click.echo(f"Tenant: {tenant} (fresh for this run, so nothing it writes touches another tenant; "
                   f"choose one with --header '{TENANT_HEADER}: NAME')")
    else:
        click.echo(f"Tenant: {tenant} (from --header)")
    click.echo(f"Seed: {seed} (the same seed sends the same requests)")
    if provider in NOTES:
        click.echo(f"Note: {NOTES[provider]}")
    try:
        settings = Settings.load()
        code = run(settings.contracts_dir, provider, base_url, headers=headers, max_examples=max_examples,
                   seed=seed, junit_xml=junit_xml.resolve() if junit_xml else None)
    except (FileNotFoundError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Tenant used: {tenant}")
    sys.exit(code)


@main.command()
@click.option("--tenant", default=None, help="Tenant to reset [default].")
@URL_OPTION
@DATA_DIR_OPTION
@CONTROL_TOKEN_OPTION
def reset(tenant, url, data_dir, control_token) -> None:
    """Put a tenant back to the built-in fixtures."""
    result = _call("POST", "/_sandbox/reset", None, tenant, url, data_dir, control_token)
    click.echo(json.dumps(result))
