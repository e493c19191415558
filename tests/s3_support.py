"""A real S3 endpoint on 127.0.0.1 (moto's server mode) behind a TCP proxy that can fail on demand.

The proxy lets a test take the endpoint down - refuse new connections and cut
open ones, optionally after some bytes of an upload - while moto keeps its
state, so a retry after `up()` sees the same buckets.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress


class FlakyProxy:
    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.available = True
        self.cut_after: int | None = None  # close a connection after this many bytes sent upstream
        self.delay = 0.0  # seconds added to every chunk each way: a slow endpoint
        self.sent = 0
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def down(self) -> None:
        """New connections are refused at once; open ones are cut."""
        self.available = False
        with self._lock:
            for connection in self._connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                    connection.close()
            self._connections.clear()

    def up(self) -> None:
        self.available = True
        self.cut_after = None

    def close(self) -> None:
        self._stopped = True
        self.down()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.available:
                with suppress(OSError):
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    client.close()  # a reset, as a stopped endpoint gives
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self.delay:
                    time.sleep(self.delay)
                if upstream:
                    self.sent += len(data)
                    if self.cut_after is not None and self.sent > self.cut_after:
                        self.down()  # the endpoint dies in the middle of the transfer
                        break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
