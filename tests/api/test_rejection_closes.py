"""A protocol-level rejection closes the connection, so no request after it is served.

Each bad request is pipelined between two good ones in one write, with both
parsers. The client must get the 200, then the rejection with
``Connection: close``, and nothing more.
"""

from __future__ import annotations

import pytest

from tests.api.test_protocol_rejections import exchange, served, split_responses

__all__ = ["served"]

GOOD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

BAD_REQUESTS = [
    pytest.param(b"GET /x HTTP/1.1\r\n\r\n", 400, id="no-host"),
    pytest.param(b"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, id="two-hosts"),
    pytest.param(
        b"GET /x HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
        b"Content-Type: application/json\r\n\r\n",
        400,
        id="two-content-types",
    ),
    pytest.param(
        b"GET /x HTTP/1.1\r\nHost: a\r\nOrigin: https://a.example\r\n"
        b"Origin: https://b.example\r\n\r\n",
        400,
        id="two-origins",
    ),
    pytest.param(
        b"GET /x HTTP/1.1\r\nHost: a\r\nX-Campfire-Mock: true\r\nX-Campfire-Mock: false\r\n\r\n",
        400,
        id="two-mock-flags",
    ),
    pytest.param(
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        400,
        id="two-content-lengths",
    ),
    pytest.param(
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        id="length-and-chunked",
    ),
    pytest.param(b"GET /x HTTP/1.1\r\nHost: a\r\nBad Name: 1\r\n\r\n", 400, id="bad-header"),
    pytest.param(b"GET /x HTTP/2.0\r\nHost: a\r\n\r\n", 505, id="http-2.0"),
]


@pytest.mark.parametrize(("bad_request", "status"), BAD_REQUESTS)
def test_rejection_ends_pipeline(served, bad_request, status) -> None:
    responses = split_responses(exchange(served.port, GOOD + bad_request + GOOD))

    statuses = [code for code, _, _ in responses]
    assert statuses == [200, status]
    rejection_headers = responses[1][1]
    assert rejection_headers["connection"] == "close"
