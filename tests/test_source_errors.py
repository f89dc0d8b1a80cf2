"""The CKAN client's answers to what a server gets wrong: retries, then errors a person can act on.

The server here is a local HTTP server that answers with injected faults (tests/faultproxy.py);
the same proxy sits in front of the real CKAN in tests/test_harvest_ckan.py.
"""

from __future__ import annotations

import pytest

from harvester.errors import SourceError, TargetError
from harvester.source.http import CkanActionClient, RetryPolicy, parse_retry_after
from tests.faultproxy import Fault, FaultProxy, ckan_answer


def client(url: str, retries: int = 3, timeout: float = 5.0, waits: list[float] | None = None, **kw: object) -> CkanActionClient:
    record = waits if waits is not None else []
    return CkanActionClient(url, RetryPolicy(timeout=timeout, retries=retries, backoff=0.5, max_backoff=4),
                            sleep=record.append, **kw)  # type: ignore[arg-type]


def test_5xx_then_success_is_retried_with_backoff() -> None:
    waits: list[float] = []
    with FaultProxy() as proxy:
        proxy.add(Fault(action="package_list", times=2, status=503, body="busy", content_type="text/plain"))
        proxy.add(Fault(action="package_list", status=200, body=ckan_answer(["a", "b"])))
        assert client(proxy.url, waits=waits).call("package_list") == ["a", "b"]
        assert proxy.calls("package_list") == 3
    assert waits == [0.5, 1.0]


def test_429_honours_retry_after() -> None:
    waits: list[float] = []
    with FaultProxy() as proxy:
        proxy.add(Fault(action="package_list", status=429, headers={"Retry-After": "3"}, body="slow down"))
        proxy.add(Fault(action="package_list", status=200, body=ckan_answer([])))
        assert client(proxy.url, waits=waits).call("package_list") == []
    assert waits == [3.0]


def test_retries_are_bounded_and_the_error_names_url_action_and_answer() -> None:
    with FaultProxy() as proxy:
        proxy.add(Fault(action="package_search", times=10, status=502, body="Bad gateway", content_type="text/plain"))
        with pytest.raises(SourceError) as info:
            client(proxy.url, retries=2).call("package_search", {"q": "*:*"})
        assert proxy.calls("package_search") == 3
    message = str(info.value)
    assert f"{proxy.url}/api/3/action/package_search" in message
    assert "failed after 3 attempt(s)" in message and "HTTP 502: Bad gateway" in message


def test_html_instead_of_json() -> None:
    with FaultProxy() as proxy:
        proxy.add(Fault(status=200, body="<!DOCTYPE html><html><body>Onderhoud</body></html>", content_type="text/html"))
        with pytest.raises(SourceError, match=r"package_show at .* answered HTTP 200 with HTML .*Onderhoud"):
            client(proxy.url).call("package_show", {"id": "x"})


def test_malformed_json() -> None:
    with FaultProxy() as proxy:
        proxy.add(Fault(status=200, body='{"success": true, "result": [1, 2', content_type="application/json"))
        with pytest.raises(SourceError, match=r"package_list .* with not JSON \(application/json\)"):
            client(proxy.url).call("package_list")


def test_json_that_is_not_a_ckan_answer() -> None:
    with FaultProxy() as proxy:
        proxy.add(Fault(status=200, body='{"data": []}'))
        with pytest.raises(SourceError, match="not a CKAN action answer \\(no 'success' key\\)"):
            client(proxy.url).call("package_list")


def test_success_false_403_and_404() -> None:
    with FaultProxy() as proxy:
        proxy.add(Fault(status=409, body='{"success": false, "error": {"__type": "Validation Error", "name": ["Must be purely lowercase"]}}'))
        proxy.add(Fault(status=403, body='{"success": false, "error": {"__type": "Authorization Error", "message": "Access denied"}}'))
        proxy.add(Fault(status=404, body='{"success": false, "error": {"__type": "Not Found Error", "message": "Not found"}}'))
        c = client(proxy.url)
        with pytest.raises(SourceError, match=r"HTTP 409, success false: Validation Error .*Must be purely lowercase"):
            c.call("package_show", {"id": "x"})
        with pytest.raises(SourceError, match="403 not authorised: Authorization Error Access denied; check that the API key"):
            c.call("package_show", {"id": "x"})
        with pytest.raises(SourceError, match="404 not found: Not Found Error Not found"):
            c.call("package_show", {"id": "x"})


def test_timeout_is_retried_then_reported() -> None:
    with FaultProxy() as proxy:
        proxy.add(Fault(times=2, status=200, body=ckan_answer([]), delay=1.5))
        with pytest.raises(SourceError, match=r"failed after 2 attempt\(s\): no answer within 0.5 s \(timeout\)"):
            client(proxy.url, retries=1, timeout=0.5).call("package_list")


def test_connection_refused_is_reported() -> None:
    with FaultProxy() as proxy:
        url = proxy.url
    with pytest.raises(SourceError, match="connection failed"):
        client(url, retries=1).call("package_list")


def test_api_key_is_sent_as_header_and_never_in_errors() -> None:
    with FaultProxy() as proxy:
        proxy.add(Fault(status=500, times=5, body="error"))
        c = client(proxy.url, retries=1, api_key="very-secret-key", error=TargetError)
        with pytest.raises(TargetError) as info:
            c.call("package_create", {"name": "x"}, post=True)
        assert c.session.headers["Authorization"] == "very-secret-key"
    assert "very-secret-key" not in str(info.value)
    assert all("very-secret-key" not in str(q) for _, q, _ in proxy.log)


def test_parse_retry_after() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
