"""Thin sync and async drivers that perform the steps of ``ClientCore.execute`` with httpx."""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar

import httpx

from ._core import ClientCore, Operation, Outcome, PreparedRequest, Response, Send, TransportFailure

T = TypeVar("T")


def _response(raw: httpx.Response) -> Response:
    headers = {name.lower(): value for name, value in raw.headers.items()}
    return Response(raw.status_code, headers, raw.content)


def _failure(error: httpx.TransportError) -> TransportFailure:
    return TransportFailure(error, timeout=isinstance(error, httpx.TimeoutException))


def _build(http: httpx.Client | httpx.AsyncClient, request: PreparedRequest) -> httpx.Request:
    return http.build_request(
        request.method, request.url, headers=request.headers, content=request.content
    )


class SyncTransport:
    def __init__(self, core: ClientCore, http: httpx.Client | None = None) -> None:
        self.core = core
        self.owns_http = http is None
        self.http = http or httpx.Client(timeout=core.timeout)

    def execute(self, operation: Operation[T]) -> T:
        steps = self.core.execute(operation)
        outcome: Outcome = None
        while True:
            try:
                step = steps.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if isinstance(step, Send):
                outcome = self._send(step.request)
            else:
                time.sleep(step.seconds)
                outcome = None

    def _send(self, request: PreparedRequest) -> Response | TransportFailure:
        try:
            return _response(self.http.send(_build(self.http, request)))
        except httpx.TransportError as error:
            return _failure(error)

    def close(self) -> None:
        if self.owns_http:
            self.http.close()


class AsyncTransport:
    def __init__(self, core: ClientCore, http: httpx.AsyncClient | None = None) -> None:
        self.core = core
        self.owns_http = http is None
        self.http = http or httpx.AsyncClient(timeout=core.timeout)

    async def execute(self, operation: Operation[T]) -> T:
        steps = self.core.execute(operation)
        outcome: Outcome = None
        while True:
            try:
                step = steps.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if isinstance(step, Send):
                outcome = await self._send(step.request)
            else:
                await asyncio.sleep(step.seconds)
                outcome = None

    async def _send(self, request: PreparedRequest) -> Response | TransportFailure:
        try:
            return _response(await self.http.send(_build(self.http, request)))
        except httpx.TransportError as error:
            return _failure(error)

    async def aclose(self) -> None:
        if self.owns_http:
            await self.http.aclose()
