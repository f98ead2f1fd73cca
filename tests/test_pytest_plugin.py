"""The pytest plugin used the way a consumer project uses it: a test file of its own, run by pytester."""

from __future__ import annotations

CONSUMER_TESTS = '''
import json
import urllib.error
import urllib.request

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
PD_TOKEN = {"X-Purple-Dot-Access-Token": "0123456789abcdef0123456789abcdef"}


def post(url, body, headers):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_refund_a_seeded_pre_order(refund_sandbox):
    [order] = refund_sandbox.seed("purpledot.preorder", seed=3)
    url = refund_sandbox.base_url("purpledot") + "/admin/api/v1/refund"
    status, body = post(url, {"id": "r-1", "order": order["order_ref"], "shipping": True},
                        {**PD_TOKEN, **refund_sandbox.headers})
    assert status == 200 and body["data"]["order"] == order["order_ref"]
    assert [e["status"] for e in refund_sandbox.requests(provider="purpledot")] == [200]
    assert refund_sandbox.order("purpledot", order["order_ref"])["shipping"]["refunded"] is True


def test_every_test_gets_a_fresh_tenant(refund_sandbox):
    assert refund_sandbox.requests() == [] and refund_sandbox.tenant.startswith("test-")


def test_faults_through_the_fixture(refund_sandbox):
    refund_sandbox.fault(provider="purpledot", status=503, times=1)
    url = refund_sandbox.base_url("purpledot") + "/admin/api/v1/refund"
    body = {"id": "r-2", "order": "5550000000001", "shipping": True}
    assert post(url, body, {**PD_TOKEN, **refund_sandbox.headers})[0] == 503
    assert post(url, body, {**PD_TOKEN, **refund_sandbox.headers})[0] == 200


def test_a_registered_credential_routes_to_the_tests_tenant(refund_sandbox):
    refund_sandbox.register_credential("purpledot", "consumer_project_token_000001")
    url = refund_sandbox.base_url("purpledot") + "/admin/api/v1/refund"
    status, _ = post(url, {"id": "r-3", "order": "5550000000001", "shipping": True},
                     {"X-Purple-Dot-Access-Token": "consumer_project_token_000001"})
    assert status == 200 and refund_sandbox.requests()[0]["status"] == 200


def test_the_flask_client_fixture(refund_sandbox_client):
    assert refund_sandbox_client.get("/_sandbox/health").get_json()["status"] == "ok"
'''


def test_a_consumer_project_uses_the_fixtures(pytester):
    pytester.makepyfile(test_consumer=CONSUMER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_a_failing_consumer_test_fails(pytester):
    """The fixtures do not swallow failures: a wrong expectation is reported as a failure."""
    pytester.makepyfile(test_wrong='''
def test_wrong(refund_sandbox):
    assert refund_sandbox.seed("fire.card_paid", seed=1)[0]["currency"] == "XXX"
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)


def test_host_and_port_options_place_the_server(pytester):
    from live_server import free_port

    port = free_port()
    pytester.makepyfile(test_placed=f'''
def test_placed(refund_sandbox, refund_sandbox_server):
    assert refund_sandbox_server.port == {port} and refund_sandbox_server.host == "0.0.0.0"
    assert refund_sandbox.base_url("nuweb") == "http://127.0.0.1:{port}/nuweb"
    assert refund_sandbox.call("GET", "/_sandbox/health")[0] == 200
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--refund-sandbox-host", "0.0.0.0",
                                           "--refund-sandbox-port", str(port))
    result.assert_outcomes(passed=1)


def test_the_port_can_come_from_the_ini_file_and_a_busy_one_is_a_clear_error(pytester):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        pytester.makeini(f"[pytest]\nrefund_sandbox_port = {port}\n")
        pytester.makepyfile(test_busy="def test_busy(refund_sandbox):\n    pass\n")
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*refund-sandbox: port {port} on 127.0.0.1 is already in use; choose another with "
                                 "--refund-sandbox-port*"])
    assert "Traceback" not in result.stdout.str() and "sandbox/app.py" not in result.stdout.str()


def test_a_malformed_port_option_is_a_usage_error(pytester):
    pytester.makepyfile(test_any="def test_any(refund_sandbox):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--refund-sandbox-port", "http")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*--refund-sandbox-port 'http': give a port 0-65535*"])
