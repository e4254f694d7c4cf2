"""A small Server-Sent Events reader over real HTTP, for tests."""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode


@dataclass(frozen=True)
class Frame:
    event: str
    data: Any
    id: str | None


class EventStream:
    """Reads one stream in a thread over a plain HTTP connection; `next()` waits for the
    next frame with a deadline; `close()` shuts the socket, as a closing tab would."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        params: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        self.frames: queue.Queue[Frame | None] = queue.Queue()
        host, port = base_url.removeprefix("http://").split(":")
        self._conn = http.client.HTTPConnection(host, int(port), timeout=60)
        request_headers = {"Accept": "text/event-stream", **(headers or {})}
        if token:
            request_headers["Authorization"] = f"Bearer {token}"
        self._conn.request("GET", "/api/stream?" + urlencode(params), headers=request_headers)
        self._response = self._conn.getresponse()
        self.status = self._response.status
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            while True:
                raw = self._response.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\r\n")
                if line == "":
                    if "event" in fields or "data" in fields:
                        data = fields.get("data", "")
                        self.frames.put(
                            Frame(
                                fields.get("event", "message"),
                                json.loads(data) if data else None,
                                fields.get("id"),
                            )
                        )
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        except (OSError, ValueError, http.client.HTTPException):
            return
        finally:
            self.frames.put(None)

    def next(self, timeout: float = 10.0, event: str | None = None) -> Frame:
        """The next frame (of kind `event`, skipping others); fails at the deadline or the end."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event or 'frame'} within {timeout}s")
            try:
                frame = self.frames.get(timeout=remaining)
            except queue.Empty:
                raise AssertionError(f"no {event or 'frame'} within {timeout}s") from None
            if frame is None:
                self.frames.put(None)
                raise AssertionError("the stream ended")
            if event is None or frame.event == event:
                return frame

    def take(self, count: int, event: str = "ticket", timeout: float = 30.0) -> list[Frame]:
        return [self.next(timeout, event) for _ in range(count)]

    def ended(self, timeout: float = 10.0) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(10)
        self._response.close()
        self._conn.close()
