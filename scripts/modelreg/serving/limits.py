"""What a request may carry: a bounded body, refused before anything parses it, and rows of plain numbers.

Feature rows come from whoever can reach the server. They are checked cell by
cell before a model sees them, so a refusal names the row and column instead of
surfacing as whatever the model's library makes of a string, a boolean or a NaN.
"""

from __future__ import annotations

import json
import math
from typing import Any

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
SHAPE = 'send {"rows": [[feature, ...], ...]}'


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` is answered 413 before the app sees a byte of it.

    A declared Content-Length over the limit is refused without reading the body. Otherwise the body
    is read here, counting bytes as they arrive (a chunked body declares no length), and handed to
    the app only once it is complete and within the limit.
    """

    def __init__(self, app, max_bytes: int = DEFAULT_MAX_BODY_BYTES):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lengths = [value for key, value in scope.get("headers", []) if key.lower() == b"content-length"]
        if lengths:
            try:
                declared = max(int(value) for value in lengths)
            except ValueError:
                await _answer(send, 400, "Content-Length is not a number")
                return
            if declared > self.max_bytes:
                await self._too_large(send)
                return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nothing to answer
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: disconnects, as the server reports them
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send) -> None:
        await _answer(send, 413, f"the request body is larger than {self.max_bytes} bytes, the server's "
                                 "limit (modelreg serve --max-body-bytes)")


async def _answer(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BadInput(ValueError):
    """Input a model is not asked to predict on; the message says what and where."""


def parse_rows(body: bytes, allow_non_finite: bool = False) -> list[list[int | float]]:
    """The feature rows of a predict request, or BadInput naming the first cell that is not a plain number.

    Python's json reads NaN, Infinity and -Infinity (and 1e999 as infinity); they are refused here
    unless `allow_non_finite`. Booleans, strings, null, lists and objects are always refused, and so
    are rows of different widths.
    """
    try:
        payload = json.loads(body)
    except RecursionError:
        raise BadInput("the body nests too deeply to be a predict request; " + SHAPE) from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        raise BadInput(f"the body is not JSON ({_short(str(error))}); {SHAPE}") from None
    if not isinstance(payload, dict):
        raise BadInput(SHAPE)
    rows = payload.get("rows")
    if not isinstance(rows, list) or not rows:
        raise BadInput(SHAPE)
    width = None
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise BadInput(f"row {i} is {_kind(row)}, not a list of features; {SHAPE}")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise BadInput(f"row {i} has {len(row)} features but row 0 has {width}")
        for j, value in enumerate(row):
            kind = type(value)
            if kind is float:
                if allow_non_finite or math.isfinite(value):
                    continue
                raise BadInput(f"row {i}, column {j}: {_float_name(value)} is not a finite number (serve with "
                               "--allow-non-finite if the model accepts NaN and infinity)")
            if kind is int:  # bool is a subclass of int, not int itself
                try:
                    float(value)
                except OverflowError:
                    raise BadInput(f"row {i}, column {j}: the integer is too large for a feature") from None
                continue
            raise BadInput(f"row {i}, column {j}: {_kind(value)} is not a number; features must be numbers")
    return rows


def _float_name(value: float) -> str:
    return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, str):
        return f"a string ({_short(json.dumps(value), 40)})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
