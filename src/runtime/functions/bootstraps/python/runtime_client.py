"""A minimal HTTP/1.1 client for the Lambda Runtime API, on one kept-alive
connection that requests are pipelined on. The bootstrap sends an answer and
its next /invocation/next back to back, so the request for the next event is
already waiting when the answer has been taken: one round trip per invocation
instead of two, which is most of a warm invocation's cost. It reads what
Kennel's Runtime API writes (Content-Length bodies), nothing more."""

import re
import socket

NOT_HEADER_TEXT = re.compile(r"[^\x20-\x7e]")


class RuntimeClient:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.address = (host, int(port))
        self.sock = None
        self.buffer = b""
        self.unread = 0

    def send(self, method, path, body=None, headers=None):
        """Sends a request now, and says whether it went out; its response is read, in order, by read()."""
        head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\n" % (method, path, self.address[0], self.address[1])
        # Header values are ASCII and one line: an error type is the function's to choose.
        for name, value in (headers or {}).items():
            head += "%s: %s\r\n" % (name, NOT_HEADER_TEXT.sub("", str(value)))
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else body.encode("utf-8")
            head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(data)
        message = head.encode("latin-1") + b"\r\n" + data
        if self.sock is None:
            self.sock = socket.create_connection(self.address)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer, self.unread = b"", 0
        try:
            self.sock.sendall(message)
        except OSError:
            # The Runtime API drops the connection after refusing an oversized answer; the next request makes another.
            self._closed()
            return False
        self.unread += 1
        return True

    def read(self):
        """The oldest unread response: (status, headers with lower-case names, body bytes)."""
        while b"\r\n\r\n" not in self.buffer:
            self._receive()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        chunks, size = [self.buffer], len(self.buffer)
        while size < length:
            chunk = self._recv(max(65536, length - size))
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
        self.buffer = data[length:]
        self.unread -= 1
        return int(lines[0].split(" ")[1]), headers, data[:length]

    def request(self, method, path, body=None, headers=None):
        """Sends a request and waits for its response, reading past the unread ones before it; on a dropped connection, once more on a new one."""
        for attempt in (1, 2):
            try:
                if self.send(method, path, body, headers):
                    while self.unread > 1:
                        self.read()
                    return self.read()
            except ConnectionError:
                pass
            if attempt == 2:
                raise ConnectionError("the Runtime API is unreachable")

    def _receive(self):
        self.buffer += self._recv(65536)

    def _recv(self, size):
        try:
            chunk = self.sock.recv(size)
        except OSError:
            chunk = b""
        if not chunk:
            raise self._closed()
        return chunk

    def _closed(self):
        self.sock.close()
        self.sock = None
        self.buffer, self.unread = b"", 0
        return ConnectionError("the Runtime API closed the connection")
