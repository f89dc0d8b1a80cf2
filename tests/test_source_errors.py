"""The CKAN client's answers to what a server gets wrong: retries, then errors a person can act on.

Each kind of failure has its own retry budget: a refused connection or a host name that does not
resolve one quick retry, timeouts and 429/5xx answers the policy's retries. A server that never
answered is unreachable (no package_list fallback); one that answered before is a source error.

The server here is a local HTTP server that answers with injected faults (tests/faultproxy.py);
the same proxy sits in front of the real CKAN in tests/test_harvest_ckan.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harvester.config import SourceConfig
from harvester.errors import NotAuthorisedError, SourceError, TargetError, UnreachableError
from harvester.source.harvest import harvest
from harvester.store.state import StateStore
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


def test_an_answer_with_a_byte_order_mark_is_read_as_requests_reads_it() -> None:
    with FaultProxy() as proxy:  # (orjson refuses the mark; requests' reading takes it)
        proxy.add(Fault(status=200, body='\ufeff{"success": true, "result": ["gr\u00f6n"]}'))
        assert client(proxy.url).call("package_list") == ["gr\u00f6n"]


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
        with pytest.raises(NotAuthorisedError, match="403 not authorised: Authorization Error Access denied; check that the API key") as refused:
            c.call("package_show", {"id": "x"})
        assert refused.value.exit_code == 4 and not isinstance(refused.value, SourceError)
        assert str(refused.value).startswith(f"source 127.0.0.1:{proxy.url.rsplit(':', 1)[1]}: ")
        with pytest.raises(SourceError, match="404 not found: Not Found Error Not found"):
            c.call("package_show", {"id": "x"})


def test_timeout_is_retried_then_reported() -> None:
    waits: list[float] = []
    with FaultProxy() as proxy:
        proxy.add(Fault(times=3, status=200, body=ckan_answer([]), delay=1.5))
        host = proxy.url.removeprefix("http://")
        with pytest.raises(UnreachableError, match=rf"^source {host} unreachable: .* failed after 3 attempt\(s\): "
                                                   rf"no answer within 0.5 s \(timeout\) from {host}$"):
            client(proxy.url, retries=2, timeout=0.5, waits=waits).call("package_list")
    assert waits == [0.5, 1.0]  # a timeout gets the policy's retries


def test_a_refused_connection_gets_one_quick_retry_and_names_the_host() -> None:
    with FaultProxy() as proxy:
        url, host = proxy.url, proxy.url.removeprefix("http://")
    waits: list[float] = []
    refused = client(url, retries=4, waits=waits)
    with pytest.raises(UnreachableError, match=rf"^source {host} unreachable: .* failed after 2 attempt\(s\): "
                                               rf"connection refused by {host}") as info:
        refused.call("package_list")
    assert waits == [0.5] and refused.requests_made == 2 and refused.failure is info.value
    assert info.value.exit_code == 3 and not isinstance(info.value, SourceError)
    target = client(url, retries=0, error=TargetError)
    with pytest.raises(UnreachableError, match=rf"^target {host} unreachable: .* failed after 1 attempt\(s\)"):
        target.call("package_search")


def test_a_host_name_that_does_not_resolve_gets_one_quick_retry() -> None:
    waits: list[float] = []
    with pytest.raises(UnreachableError, match=r"^source no-such-host\.invalid unreachable: .*the host name "
                                               r"no-such-host\.invalid does not resolve \(DNS failure"):
        client("http://no-such-host.invalid", retries=4, waits=waits).call("package_list")
    assert waits == [0.5]


def test_a_server_that_answered_before_and_then_went_away_is_a_source_error() -> None:
    """Mid-run the listing goes on as far as it can (incomplete), as for any failed page."""
    with FaultProxy() as proxy:
        proxy.add(Fault(action="package_list", status=200, body=ckan_answer(["a"])))
        c = client(proxy.url, retries=3)
        assert c.call("package_list") == ["a"]
    with pytest.raises(SourceError, match=r"^source 127\.0\.0\.1:\d+: CKAN action package_show .*connection refused") as info:
        c.call("package_show", {"id": "a"})
    assert not isinstance(info.value, UnreachableError) and c.requests_made == 3


def test_a_dead_source_fails_the_harvest_at_once_without_the_package_list_fallback(tmp_path: Path) -> None:
    with FaultProxy() as proxy:
        url = proxy.url
    config = SourceConfig(name="dead", url=url, retries=4, backoff=0.01)
    started = time.monotonic()
    with StateStore.open(tmp_path / "s.sqlite") as store:
        summary = harvest(config, store, "full")
    assert time.monotonic() - started < 10
    assert summary.outcome == "failed" and summary.requests == 2 and summary.method == ""
    assert summary.error is not None and summary.error.startswith(f"source {url.removeprefix('http://')} unreachable")
    assert not any("package_list" in problem for problem in summary.problems)


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
