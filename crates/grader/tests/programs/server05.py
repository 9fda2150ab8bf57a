"""Lesson 05, a careful threaded server: python3 server05.py PORT [FAULT]."""
import codecs
import logging
import os
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

port = int(sys.argv[1])
fault = sys.argv[2] if len(sys.argv) > 2 else ""
reply = b"ok" if fault == "wrong-reply" else "ok, 收到了".encode("gbk")
pool = ThreadPoolExecutor(max_workers=2) if fault == "pool" else None
if fault == "logging":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(message)s")


def say(*words):
    """print, or with the "logging" fault the logging module (to stderr)."""
    if fault == "logging":
        logging.info(" ".join(str(word) for word in words))
    else:
        print(*words)


def handle_request(conn, address):
    decoder = codecs.getincrementaldecoder("gbk")(errors="replace")
    while True:
        try:
            data = conn.recv(1024)
        except ConnectionResetError:
            if fault == "dies-on-reset":
                os._exit(1)
            break
        if not data:
            if fault == "dies-on-close":
                os._exit(1)
            say("client offline:", address)
            break
        if fault == "per-recv-decode":
            text = data.decode("gbk", errors="replace")  # half a character is lost
        else:
            text = decoder.decode(data)
        if fault != "no-print":
            say("received:", text, address)
        try:
            conn.sendall(reply)
        except OSError:
            # Even the faulty variants survive a failed send: "dies-on-reset"
            # dies only when recv meets the reset, as C code that checks
            # recv's result with exit(1) does.
            break
    conn.close()


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
server.bind(("", port))
server.listen(128)
while True:
    conn, address = server.accept()
    if fault == "one-at-a-time":
        handle_request(conn, address)
    elif pool:
        pool.submit(handle_request, conn, address)
    else:
        threading.Thread(target=handle_request, args=(conn, address), daemon=True).start()
