"""Lesson 03, a careful single server: python3 server03.py PORT [FAULT]."""
import socket
import sys
import time

port = int(sys.argv[1])
fault = sys.argv[2] if len(sys.argv) > 2 else ""

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
if fault != "no-reuseaddr":
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
server.bind(("", port))
server.listen(128)
conn, address = server.accept()
data = conn.recv(1024)
if fault != "no-print":
    print("received:", data.decode("gbk", errors="replace"), address)
reply = "ok, 问题正在处理中..."
conn.sendall(reply.encode("utf-8" if fault == "replies-utf8" else "gbk"))
if fault == "never-closes":
    time.sleep(60)
conn.close()
server.close()
