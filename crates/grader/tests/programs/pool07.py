"""A thread pool (lesson 07): four worker threads serve the clients of a
bounded queue; a client silent for 5 s is closed, so that its worker takes
the next; a client that finds the queue full hears "服务器忙，请稍后再试" and
is closed at once.

    python3 pool07.py PORT [FAULT]

Each recv of up to 1024 bytes is a message, printed decoded (one decoder per
connection) and answered "ok, 收到了" in GBK. Without a fault it is a
careful solution. Each fault breaks one thing:

    thread-per-client  a thread per client, at most 100 at once (more are refused): bounded-threads
    capped-threads     a thread per client, at most 60 at once, just above the 50 clients
                       after which lesson 07 used to count first: bounded-threads
    no-deadline        a silent client keeps its worker for ever: idle-deadline
    short-deadline     a deadline of 3 s instead of the documented 5 s: idle-deadline
    unbounded          a queue without a bound, which never refuses: queue-full
    unbounded-1s       a queue without a bound, and a client that has said nothing closed after
                       1 s, which ends a few silent clients soon after they connect, none
                       refused: queue-full
    unbounded-fast     100 workers, a queue without a bound, and a client that has said nothing
                       closed after 0.5 s: nearly every silent client's connection ends soon,
                       as if refused, the first ones too: queue-full
    refuses-some       when the queue is full, refuses one client in three and keeps the others
                       waiting, never served: queue-full
    blocking-put       the accept loop waits for room in the queue: queue-full
    leaks              keeps a 1 MiB buffer for every client it accepts, refused or not: queue-full
    utf8-reply         replies in UTF-8: many-clients
    double-reply       replies twice to every message: many-clients
    dies-on-reset      a reset kills the worker that serves the client: survives-reset
    lifetime           cuts a client 6.5 s after its worker took it, even while it talks (a
                       silent one too, within idle-deadline's margin): talking-client
    per-recv-decode    decodes each recv on its own: split-character
    strict-decode      decodes strictly: bytes that are not GBK end the worker: invalid-gbk
"""

import codecs
import queue
import socket
import sys
import threading
import time

PORT = int(sys.argv[1])
FAULT = sys.argv[2] if len(sys.argv) > 2 else ""

WORKERS = 100 if FAULT == "unbounded-fast" else 4
QUEUE = 16
IDLE = {"no-deadline": None, "short-deadline": 3.0}.get(FAULT, 5.0)
# How long a client that has said nothing yet is kept.
FIRST_IDLE = {"unbounded-1s": 1.0, "unbounded-fast": 0.5}.get(FAULT, IDLE)
THREAD_PER_CLIENT = FAULT in ("thread-per-client", "capped-threads")
CAP = 60 if FAULT == "capped-threads" else 100
REPLY = "ok, 收到了".encode("utf-8" if FAULT == "utf8-reply" else "gbk")
BUSY = "服务器忙，请稍后再试".encode("gbk")
ERRORS = "strict" if FAULT == "strict-decode" else "replace"

waiting = queue.Queue(maxsize=0 if FAULT.startswith("unbounded") else QUEUE)
leaked = []
kept = []
lock = threading.Lock()
active = 0
refusals = 0


def say(line):
    print(line, flush=True)


def serve(conn, addr):
    conn.settimeout(FIRST_IDLE)
    end = time.monotonic() + 6.5
    decoder = codecs.getincrementaldecoder("gbk")(errors=ERRORS)
    try:
        while True:
            if FAULT == "lifetime":
                left = end - time.monotonic()
                if left <= 0:
                    say(f"client too old, closing: {addr}")
                    break
                conn.settimeout(left)
            try:
                data = conn.recv(1024)
            except socket.timeout:
                say(f"client idle, closing: {addr}")
                break
            except ConnectionResetError:
                if FAULT == "dies-on-reset":
                    raise
                say(f"client dropped: {addr} (reset)")
                break
            except OSError as error:
                say(f"client dropped: {addr} ({error})")
                break
            if not data:
                say(f"client offline: {addr}")
                break
            if FAULT == "per-recv-decode":
                text = data.decode("gbk", errors="replace")
            else:
                text = decoder.decode(data)
            say(f"received: {text} {addr}")
            try:
                conn.sendall(REPLY)
                if FAULT == "double-reply":
                    conn.sendall(REPLY)
            except OSError as error:
                say(f"cannot reply to {addr} ({error})")
                break
            if FAULT != "lifetime":
                conn.settimeout(IDLE)
    finally:
        conn.close()


def refuse(conn, addr):
    conn.setblocking(False)
    try:
        conn.send(BUSY)
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()
    say(f"server busy: refused {addr}")


def work():
    while True:
        conn, addr = waiting.get()
        serve(conn, addr)


def one_client(conn, addr):
    global active
    try:
        serve(conn, addr)
    finally:
        with lock:
            active -= 1


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("", PORT))
server.listen(128)
print(f"listening on 0.0.0.0:{PORT}", flush=True)
if not THREAD_PER_CLIENT:
    for _ in range(WORKERS):
        threading.Thread(target=work, daemon=True).start()

while True:
    conn, addr = server.accept()
    say(f"client connected: {addr}")
    if FAULT == "leaks":
        leaked.append(b"x" * (1 << 20))
    if THREAD_PER_CLIENT:
        with lock:
            full = active >= CAP
            if not full:
                active += 1
        if full:
            refuse(conn, addr)
        else:
            threading.Thread(target=one_client, args=(conn, addr), daemon=True).start()
    elif FAULT == "blocking-put":
        waiting.put((conn, addr))
    else:
        try:
            waiting.put_nowait((conn, addr))
        except queue.Full:
            refusals += 1
            if FAULT == "refuses-some" and refusals % 3:
                kept.append(conn)
                continue
            refuse(conn, addr)
