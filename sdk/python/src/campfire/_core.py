"""The I/O-free core shared by the sync and async clients.

Resource methods describe a call as an ``Operation``: a ``Request`` plus a
function that turns the decoded JSON into a model. ``ClientCore.execute``
is a generator that drives one operation through retries: it yields
``Send`` (perform this HTTP request and send back a ``Response`` or a
``TransportFailure``) and ``Sleep`` (wait this long, then send back None),
and finally returns the parsed result. The transports in ``_transport.py``
only perform those two steps, so sync and async behave the same by
construction.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode

from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    error_class,
    parse_retry_after,
)
from ._version import __version__

T = TypeVar("T")

DEFAULT_BASE_URL = "http://localhost:3000/api/v2"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2

# Backoff before retry n (0-based) is min(MAX, INITIAL * 2**n), scaled by a
# random factor in [0.5, 1) so that clients failing together spread out.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A Retry-After longer than this is not waited for: the error is raised so the
# caller can decide, instead of a call that silently blocks for minutes.
MAX_RETRY_AFTER = 60.0

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# 409 codes that mean "the first attempt with this Idempotency-Key is still
# running or failed"; retrying with the same key is the documented remedy.
RETRYABLE_CONFLICT_CODES = frozenset({"IDEMPOTENCY_IN_PROGRESS"})
# The methods that get an Idempotency-Key: the server honours it on each of them.
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def path(template: str, *ids: str) -> str:
    """Fill ``{}`` placeholders of a path with percent-encoded ids."""
    for value in ids:
        if not isinstance(value, str) or not value:
            raise TypeError(f"expected a non-empty id string, got {value!r}")
    return template.format(*(quote(value, safe="") for value in ids))


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def body(**fields: Any) -> dict[str, Any]:
    """Build a JSON body from keyword arguments: camelCase keys, unset (None) fields left out.

    Only the top-level keys are renamed; nested values such as ``metadata``
    are sent exactly as given.
    """
    return {to_camel(key): value for key, value in fields.items() if value is not None}


def query(**fields: Any) -> dict[str, Any]:
    """Build query parameters like ``body``; lists become comma-separated values."""
    params: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        params[to_camel(key)] = value
    return params


@dataclass(frozen=True)
class Request:
    """One API call, relative to the base URL, before authentication is added."""

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation(Generic[T]):
    """A request and the function that turns its decoded JSON body into a result."""

    request: Request
    parse: Callable[[Any], T]
    expects_json: bool = True
    """False for text bodies such as CSV exports; ``parse`` then receives a str."""


@dataclass(frozen=True)
class PreparedRequest:
    """A request ready for the wire: absolute URL, every header, the encoded body."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None


@dataclass(frozen=True)
class Response:
    status_code: int
    headers: Mapping[str, str]
    content: bytes


@dataclass(frozen=True)
class TransportFailure:
    """A request that got no HTTP response; ``timeout`` marks a timeout."""

    error: BaseException
    timeout: bool = False


@dataclass(frozen=True)
class Send:
    request: PreparedRequest


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step = Send | Sleep
Outcome = Response | TransportFailure | None


class ClientCore:
    """Configuration and call logic shared by ``CampfireClient`` and ``AsyncCampfireClient``."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: float,
        max_retries: int,
        default_headers: Mapping[str, str] | None = None,
        random_fraction: Callable[[], float] = random.random,
    ) -> None:
        if not isinstance(api_key, str) or not api_key:
            raise TypeError(
                "api_key is missing: pass CampfireClient(api_key=...) "
                "or set the CAMPFIRE_API_KEY environment variable"
            )
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.default_headers = dict(default_headers or {})
        self._random = random_fraction

    def prepare(self, request: Request) -> PreparedRequest:
        """Add the base URL, credentials, JSON encoding and, on a write, an Idempotency-Key."""
        url = self.base_url + request.path
        if request.params:
            url += "?" + urlencode(dict(request.params))
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": f"campfire-python/{__version__}",
            **self.default_headers,
        }
        content = None
        if request.json is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(request.json, separators=(",", ":")).encode()
        headers.update(request.headers)
        has_key = any(name.lower() == "idempotency-key" for name in headers)
        if request.method in WRITE_METHODS and not has_key:
            # One key for every attempt of this call, so a retry after a lost
            # response gets the first result back instead of creating a duplicate.
            headers["Idempotency-Key"] = str(uuid.uuid4())
        return PreparedRequest(request.method, url, headers, content)

    def retry_delay(self, retry: int, outcome: Response | TransportFailure) -> float | None:
        """Return how long to wait before retry number ``retry`` (0-based), or None to stop."""
        if retry >= self.max_retries:
            return None
        if isinstance(outcome, Response):
            if not self._is_retryable(outcome):
                return None
            retry_after = parse_retry_after(outcome.headers.get("retry-after"))
            if retry_after is not None:
                return retry_after if retry_after <= MAX_RETRY_AFTER else None
        backoff = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2**retry)
        return backoff * (0.5 + self._random() / 2)

    @staticmethod
    def _is_retryable(response: Response) -> bool:
        if response.status_code in RETRYABLE_STATUSES:
            return True
        if response.status_code == 409:
            return error_code(response) in RETRYABLE_CONFLICT_CODES
        return False

    def execute(self, operation: Operation[T]) -> Generator[Step, Outcome, T]:
        """Drive ``operation`` through its attempts; see the module docstring for the protocol."""
        prepared = self.prepare(operation.request)
        retry = 0
        while True:
            outcome = yield Send(prepared)
            assert outcome is not None
            delay = self.retry_delay(retry, outcome)
            if delay is None:
                break
            yield Sleep(delay)
            retry += 1

        if isinstance(outcome, TransportFailure):
            raise connection_error(outcome, prepared)
        if outcome.status_code >= 400:
            raise api_error(outcome)
        if not operation.expects_json:
            return operation.parse(outcome.content.decode("utf-8"))
        return operation.parse(decode(outcome))


def decode(response: Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError as error:
        raise APIError(
            f"the API returned a body that is not JSON: {response.content[:200]!r}",
            status_code=response.status_code,
            request_id=response.headers.get("x-request-id"),
            headers=dict(response.headers),
        ) from error


def error_code(response: Response) -> str | None:
    try:
        envelope = json.loads(response.content)
        return envelope["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def api_error(response: Response) -> APIError:
    """Build the exception for an error response from its envelope."""
    request_id = response.headers.get("x-request-id")
    code = message = None
    details: dict[str, Any] = {}
    try:
        error = json.loads(response.content)["error"]
        code = error.get("code")
        message = error.get("message")
        details = error.get("details") or {}
        request_id = error.get("requestId") or request_id
    except (ValueError, KeyError, TypeError, AttributeError):
        text = response.content[:200].decode("utf-8", "replace").strip()
        message = f"HTTP {response.status_code} without an error envelope: {text or '(empty)'}"
    cls = error_class(response.status_code, code)
    return cls(
        message or f"HTTP {response.status_code}",
        status_code=response.status_code,
        code=code,
        details=details,
        request_id=request_id,
        headers=dict(response.headers),
    )


def connection_error(failure: TransportFailure, request: PreparedRequest) -> APIConnectionError:
    target = f"{request.method} {request.url.split('?')[0]}"
    if failure.timeout:
        error: APIConnectionError = APITimeoutError(f"{target} timed out: {failure.error}")
    else:
        error = APIConnectionError(f"{target} failed: {failure.error}")
    error.__cause__ = failure.error
    return error
