"""A TCP proxy on 127.0.0.1 that a test can cut and restore, to make a server unreachable
for the processes that connect through it while the test itself still reaches the server
directly.

    with TcpProxy("127.0.0.1", 5432) as proxy:       # listens on 127.0.0.1:proxy.port
        ...                                           # clients connect to proxy.port
        proxy.cut("blackhole")                        # or proxy.cut("refuse")
        ...
        proxy.restore()

Two ways to be unreachable:
- "refuse": every open connection is reset at once and new connections are refused
  (ECONNREFUSED), as when the server crashed or restarts. Clients fail fast.
- "blackhole": a network partition (or a failover whose old primary vanished). Open
  connections freeze: nothing more is forwarded either way. New connections are accepted
  but nothing is forwarded. On restore, every connection frozen or opened during the cut is
  reset (the server behind the partition has long forgotten it), and new ones work again.
  Clients hang until their own timeouts fire, or until the restore: the nastier case, since
  a missing timeout shows up as a hang, not as an error.

One thread accepts, one thread per connection forwards both ways (select with a short
timeout, so a cut or stop is noticed within POLL_SECONDS). `stop()` closes everything.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time

POLL_SECONDS = 0.1
BUFFER_BYTES = 65536
MODES = ("refuse", "blackhole")


def _reset(sock: socket.socket) -> None:
    """Closes with an RST (SO_LINGER 0), as a crashed peer or a dropped NAT entry would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _has_unread_bytes(sock: socket.socket) -> bool:
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(readable)


class _Connection:
    def __init__(self, proxy: TcpProxy, client: socket.socket, frozen: bool):
        self.proxy = proxy
        self.client = client
        self.upstream: socket.socket | None = None
        # Accepted during a blackhole: never forwarded, reset on restore.
        self.frozen = frozen
        self.opened_in_blackhole = frozen
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()
        _reset(self.client)
        if self.upstream is not None:
            _reset(self.upstream)

    def run(self) -> None:
        try:
            while self.frozen or self.proxy.mode == "blackhole":
                if self.closed.wait(POLL_SECONDS) or self.proxy.stopping:
                    return
            self.upstream = socket.create_connection(self.proxy.target, timeout=10)
            self.upstream.settimeout(None)
            if self.closed.is_set():  # cut while connecting
                return
            sockets = [self.client, self.upstream]
            while not self.closed.is_set():
                if self.frozen or self.proxy.mode == "blackhole":  # forward nothing
                    time.sleep(POLL_SECONDS)
                    continue
                readable, _, _ = select.select(sockets, [], [], POLL_SECONDS)
                for source in readable:
                    data = source.recv(BUFFER_BYTES)
                    if not data:
                        return
                    target = self.upstream if source is self.client else self.client
                    target.sendall(data)
        except OSError:
            return
        finally:
            self.close()
            self.proxy._forget(self)


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, listen_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.listen_host = listen_host
        self.port = 0
        self.mode: str | None = None  # None: forwarding; else one of MODES
        self.stopping = False
        self.accepted = 0  # connections accepted, in all
        self.cuts = 0
        # Connections a blackhole left hanging with a client waiting on them: opened during
        # it, or holding bytes the client sent that were never forwarded.
        self.hung_in_blackhole = 0
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._listener: socket.socket | None = None
        # While refusing, this bound but not listening socket keeps the port ours, so
        # connections to it are refused (RST) and no other socket can take the port.
        self._placeholder: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._connections)

    def start(self) -> TcpProxy:
        self._placeholder = self._bind(self.port)
        self.port = self._placeholder.getsockname()[1]
        self._listen()
        return self

    def _bind(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((self.listen_host, port))
        return sock

    def _listen(self) -> None:
        listener = self._bind(self.port)
        listener.listen(128)
        listener.settimeout(POLL_SECONDS)
        self._listener = listener
        self._thread = threading.Thread(
            target=self._accept_loop, args=(listener,), name="tcp-proxy-accept", daemon=True
        )
        self._thread.start()

    def _unlisten(self) -> None:
        listener, thread = self._listener, self._thread
        self._listener = self._thread = None
        if listener is not None:
            listener.close()  # the accept loop sees it within POLL_SECONDS
        if thread is not None:
            thread.join(timeout=5)

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self.stopping:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed: refusing or stopping
            client.settimeout(None)
            with self._lock:
                self.accepted += 1
                self.hung_in_blackhole += self.mode == "blackhole"
                connection = _Connection(self, client, frozen=self.mode == "blackhole")
                self._connections.add(connection)
            threading.Thread(target=connection.run, name="tcp-proxy-conn", daemon=True).start()

    def _forget(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _close_all(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.close()

    def _freeze_all(self) -> list[_Connection]:
        """Marks every current connection frozen (called with the lock held)."""
        for connection in self._connections:
            connection.frozen = True
        return list(self._connections)

    def cut(self, mode: str = "blackhole") -> None:
        """Makes the target unreachable through the proxy (see the module docstring)."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if self.mode is not None:
            raise RuntimeError(f"already cut ({self.mode})")
        self.cuts += 1
        with self._lock:
            self.mode = mode
            if mode == "blackhole":
                self._freeze_all()  # forwarding stops within POLL_SECONDS
        if mode == "refuse":
            self._unlisten()
            self._close_all()

    def restore(self) -> None:
        """Forwards again. After a blackhole, what was frozen is reset first."""
        mode = self.mode
        if mode == "blackhole":
            # Whatever was open during the cut stays frozen and is reset; connections
            # accepted from now on forward again.
            with self._lock:
                frozen = self._freeze_all()
                self.mode = None
            for connection in frozen:
                if not connection.opened_in_blackhole:  # those are counted already
                    self.hung_in_blackhole += _has_unread_bytes(connection.client)
                connection.close()
        elif mode == "refuse":
            self.mode = None
            self._listen()

    def stop(self) -> None:
        self.stopping = True
        self._unlisten()
        self._close_all()
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
