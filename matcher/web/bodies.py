"""Refused bodies are read before the answer, so a plain client reads its 413 (or 401...).

A server that answers 413 and closes while the client is still sending makes the client's next
write fail (a broken pipe, or a reset that discards the answer): the client never learns why. So a
request refused with a body left unread has the rest read and discarded first, up to
``MATCHER_DRAIN_BYTES``; past that bound the connection is closed rather than read for ever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
CHUNK = 64 * 1024


class CountingInput:
    """The request body, counting what the app read of it."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.read_bytes = 0
        self.ended = False

    def _counted(self, data: bytes, asked: int | None) -> bytes:
        self.read_bytes += len(data)
        if not data and asked != 0:
            self.ended = True
        return data

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all with -1)."""
        return self._counted(self.stream.read(size), size)

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line."""
        return self._counted(self.stream.readline(size), size)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read every line."""
        return list(iter(self.readline, b""))

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


class DrainedBodies:
    """WSGI middleware: before a 4xx answer, read what is left of the body (up to a bound)."""

    def __init__(self, app: WsgiApp, drain_bytes: int) -> None:
        self.app = app
        self.drain_bytes = drain_bytes

    def _drain(self, environ: dict[str, Any], body: CountingInput) -> bool:
        """Read and discard the rest of the body; False when it is past the bound."""
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if length.isdigit():
            left = int(length) - body.read_bytes
            if left > self.drain_bytes:
                return False
        elif not chunked:
            return True  # no body
        budget = self.drain_bytes
        while not body.ended and budget > 0:
            if length.isdigit() and int(length) - body.read_bytes <= 0:
                break
            data = body.stream.read(min(CHUNK, budget))
            if not data:
                break
            body.read_bytes += len(data)
            budget -= len(data)
        return body.ended or (length.isdigit() and int(length) <= body.read_bytes)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Run the app; drain the unread body of a refused request before answering."""
        body = CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = body

        def answer(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status[:1] == "4" and not self._drain(environ, body):
                headers = [(k, v) for k, v in headers if k.lower() != "connection"]
                headers.append(("Connection", "close"))
            return start_response(status, headers, exc_info)

        return self.app(environ, answer)


class BoundedRequest(Request):
    """Flask's request, whose streamed (chunked) body past the limit is a 413, not cut short.

    Werkzeug stops reading a body without a length at the limit and returns what it has, so a
    chunked body over the limit read as truncated JSON (400). One byte more means it was over.
    """

    def get_data(  # type: ignore[override]
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """The body, or 413 when a body without a length runs past the limit."""
        data = super().get_data(cache=cache, as_text=False, parse_form_data=parse_form_data)
        assert isinstance(data, bytes)
        limit = self.max_content_length
        if (
            limit is not None
            and self.content_length is None
            and len(data) >= limit
            and self.environ["wsgi.input"].read(1)
        ):
            raise RequestEntityTooLarge()
        return data.decode("utf-8", "replace") if as_text else data
