"""An event loop (lessons 08 and 09): one thread serves every client, with
non-blocking sockets and the selectors module (epoll on Linux).

    python3 evloop.py MODE PORT [FAULT]

MODE is `reply` (lesson 05's conversation: each recv of up to 1024 bytes is
a message, printed and answered "ok, 收到了" in GBK; the message `slow` is
answered after one second of blocking work, run on a thread of its own so
that the loop goes on) or `echo` (every byte sent back, in order). Each
connection has a buffer of what it is owed, sent as the socket takes it
(WRITABLE asked for only while something waits), and stops being read
while that buffer holds 256 KiB (backpressure).

Without a fault it is a careful solution. Each fault breaks one thing:

    thread-per-client  a thread per client, blocking calls (lessons 08/09: one-thread / bounded-threads);
                       with stacks of 256 KiB, so that a thousand threads fit in the grader's memory
                       limit (RLIMIT_DATA counts every thread's stack: 8 MiB each by default)
    spin               polls with a timeout of 0: a busy loop (no-busy-loop)
    unbounded          no backpressure: keeps all a client is owed (never-reads)
    drop-over-16m      no backpressure, and memory kept flat by throwing away what a client sends
                       once it is owed 16 MiB: its echo comes back short (never-reads)
    blocking-send      sends with a blocking sendall, which waits on a client that does not read (never-reads)
    drops-partial      ignores what send() did not take (slow-reader)
    spin-while-full    comes back to a connection whose output does not fit at once, in a loop,
                       instead of waiting until it is writable: it spins only while output waits
                       (never-reads)
    blocking-slow      runs the slow request's sleep inside the loop (lesson 09: slow-request)
    utf8-reply         replies in UTF-8 (many-clients)
    double-reply       answers every message twice (many-clients)
    spool              no backpressure: what a client is owed beyond 256 KiB goes to a file in /tmp
                       and comes back in order, so the echo is whole, but the file is memory
                       (tmpfs) that no VmRSS shows (never-reads)
    crash-on-reset     lets a reset connection's error escape the client's turn: the loop, and the
                       server, end (survives-reset)
    per-recv-decode    decodes each recv on its own (split-character)
    strict-decode      decodes strictly: bytes that are not GBK raise, which ends the loop (invalid-gbk)
"""

import codecs
import os
import queue
import selectors
import socket
import sys
import tempfile
import threading
import time

MODE = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "reply"
PORT = int(sys.argv[2])
FAULT = sys.argv[3] if len(sys.argv) > 3 else ""

REPLY = "ok, 收到了".encode("utf-8" if FAULT == "utf8-reply" else "gbk")
LIMIT = float("inf") if FAULT in ("unbounded", "drop-over-16m", "spool") else 256 * 1024
READ_SIZE = 1024 if MODE == "reply" else 65536

selector = selectors.DefaultSelector()
# Slow requests' replies, handed back to the loop by their threads; the
# loop is woken by a byte on `wake`.
done = queue.Queue()
wake_read, wake_write = socket.socketpair()
wake_read.setblocking(False)


def say(line):
    if MODE == "reply":
        print(line, flush=True)


class Client:
    def __init__(self, sock, addr):
        self.sock = sock
        self.addr = addr
        self.out = bytearray()
        self.ended = False
        self.closed = False
        errors = "strict" if FAULT == "strict-decode" else "replace"
        self.decoder = codecs.getincrementaldecoder("gbk")(errors=errors)
        self.events = selectors.EVENT_READ
        # spool: the file, and how far it has been written and read back.
        self.spool, self.spooled, self.unspooled = None, 0, 0
        selector.register(sock, self.events, self)

    def owes(self):
        return bool(self.out) or self.spooled > self.unspooled

    def close(self):
        if not self.closed:
            self.closed = True
            selector.unregister(self.sock)
            self.sock.close()
            if self.spool is not None:
                self.spool.close()
            say(f"client offline: {self.addr}")

    def read(self):
        for _ in range(16):
            if len(self.out) >= LIMIT or self.ended:
                return
            try:
                data = self.sock.recv(READ_SIZE)
            except BlockingIOError:
                return
            except OSError:
                if FAULT == "crash-on-reset":
                    raise
                return self.close()
            if not data:
                self.ended = True
                return
            if MODE == "echo":
                self.owe(data)
                continue
            if FAULT == "per-recv-decode":
                text = data.decode("gbk", errors="replace")
            else:
                text = self.decoder.decode(data)
            say(f"received: {text} {self.addr}")
            if text == "slow":
                if FAULT == "blocking-slow":
                    time.sleep(1)
                    self.owe(REPLY)
                else:
                    threading.Thread(target=slow_work, args=(self,), daemon=True).start()
            else:
                self.owe(REPLY)
                if FAULT == "double-reply":
                    self.owe(REPLY)

    def owe(self, data):
        if FAULT == "blocking-send":
            self.sock.setblocking(True)
            try:
                self.sock.sendall(data)
            except OSError:
                self.close()
            finally:
                if not self.closed:
                    self.sock.setblocking(False)
            return
        if FAULT == "drop-over-16m" and len(self.out) + len(data) > 16 * 1024 * 1024:
            return
        if FAULT == "spool" and (len(self.out) >= 256 * 1024 or self.spooled > self.unspooled):
            if self.spool is None:
                self.spool = tempfile.TemporaryFile(dir="/tmp")
            os.pwrite(self.spool.fileno(), data, self.spooled)
            self.spooled += len(data)
            return
        self.out += data

    def write(self):
        if not self.out and self.spooled > self.unspooled:
            chunk = os.pread(self.spool.fileno(), 256 * 1024, self.unspooled)
            self.unspooled += len(chunk)
            self.out += chunk
        while self.out and not self.closed:
            try:
                n = self.sock.send(self.out)
            except BlockingIOError:
                n = 0
            except OSError:
                return self.close()
            if FAULT == "drops-partial":
                self.out.clear()
                return
            if n == 0:
                return
            del self.out[:n]

    def turn(self):
        self.read()
        if self.closed:
            return
        self.write()
        if self.closed:
            return
        if self.ended and not self.owes():
            return self.close()
        events = 0
        if not self.ended and len(self.out) < LIMIT:
            events |= selectors.EVENT_READ
        if self.owes():
            events |= selectors.EVENT_WRITE
        if events == 0:
            events = selectors.EVENT_READ
        if events != self.events:
            self.events = events
            selector.modify(self.sock, events, self)


def slow_work(client):
    time.sleep(1)
    done.put(client)
    wake_write.send(b"x")


def serve_blocking(sock, addr):
    """thread-per-client: lesson 05's way."""
    decoder = codecs.getincrementaldecoder("gbk")(errors="replace")
    try:
        while True:
            data = sock.recv(READ_SIZE)
            if not data:
                break
            if MODE == "echo":
                sock.sendall(data)
                continue
            text = decoder.decode(data)
            say(f"received: {text} {addr}")
            if text == "slow":
                time.sleep(1)
            sock.sendall(REPLY)
    except OSError:
        pass
    sock.close()
    say(f"client offline: {addr}")


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("", PORT))
server.listen(1024)
server.setblocking(False)
selector.register(server, selectors.EVENT_READ, "server")
selector.register(wake_read, selectors.EVENT_READ, "wake")
print(f"listening on 0.0.0.0:{PORT}", flush=True)

if FAULT == "thread-per-client":
    threading.stack_size(256 * 1024)
timeout = 0 if FAULT == "spin" else None
clients = []
while True:
    if FAULT == "spin-while-full":
        # The mistake: every connection with output left over gets another
        # turn at once, whether or not its socket has room.
        clients = [c for c in clients if not c.closed]
        timeout = 0 if any(c.out for c in clients) else None
    for key, _ in selector.select(timeout):
        if key.data == "server":
            while True:
                try:
                    sock, addr = server.accept()
                except BlockingIOError:
                    break
                except OSError:
                    break
                say(f"client connected: {addr}")
                if FAULT == "thread-per-client":
                    threading.Thread(target=serve_blocking, args=(sock, addr), daemon=True).start()
                else:
                    sock.setblocking(False)
                    clients.append(Client(sock, addr))
        elif key.data == "wake":
            try:
                wake_read.recv(4096)
            except BlockingIOError:
                pass
            while not done.empty():
                client = done.get()
                if not client.closed:
                    client.owe(REPLY)
                    client.turn()
        else:
            key.data.turn()
