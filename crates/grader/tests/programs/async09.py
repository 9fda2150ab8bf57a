"""An async server (lesson 09) on asyncio: a task per client, one thread.

    python3 async09.py MODE PORT [FAULT]

MODE is `reply` (each read of up to 1024 bytes is a message, printed
decoded and answered "ok, 收到了" in GBK; the message `slow` is answered
after one second of blocking work, run on the default executor's threads
with run_in_executor, so that the loop goes on) or `echo` (every byte sent
back; `await writer.drain()` after each write is the backpressure: the
task reads again only once the transport's buffer is low, and asyncio's
stream stops reading a client whose buffer is full).

Without a fault it is a careful solution. Each fault breaks one thing:

    blocking-slow   runs the slow request's time.sleep(1) inside the task: the one
                    thread stops, and every client with it (slow-request)
    double-reply    answers every message twice (many-clients)
    drop-over-16m   echo without drain(), and memory kept flat by throwing away what
                    a client sends while 16 MiB wait for it: its echo comes back short
                    (never-reads)
    crash-on-reset  ends the program (SystemExit, which asyncio lets out of the loop)
                    when a client resets its connection (survives-reset)
"""

import asyncio
import codecs
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "reply"
PORT = int(sys.argv[2])
FAULT = sys.argv[3] if len(sys.argv) > 3 else ""
REPLY = "ok, 收到了".encode("gbk")
DROP_OVER = 16 * 1024 * 1024


async def handle(reader, writer):
    addr = writer.get_extra_info("peername")
    if MODE == "reply":
        print(f"client connected: {addr}", flush=True)
    decoder = codecs.getincrementaldecoder("gbk")(errors="replace")
    try:
        while True:
            data = await reader.read(1024 if MODE == "reply" else 65536)
            if not data:
                break
            if MODE == "echo":
                if FAULT != "drop-over-16m":
                    writer.write(data)
                    await writer.drain()
                elif writer.transport.get_write_buffer_size() + len(data) <= DROP_OVER:
                    writer.write(data)
                continue
            text = decoder.decode(data)
            print(f"received: {text} {addr}", flush=True)
            if text == "slow":
                if FAULT == "blocking-slow":
                    time.sleep(1)
                else:
                    await asyncio.get_running_loop().run_in_executor(None, time.sleep, 1)
            writer.write(REPLY)
            if FAULT == "double-reply":
                writer.write(REPLY)
            await writer.drain()
    except ConnectionResetError:
        if FAULT == "crash-on-reset":
            raise SystemExit(1)
    except OSError:
        pass
    finally:
        writer.close()
    if MODE == "reply":
        print(f"client offline: {addr}", flush=True)


async def main():
    server = await asyncio.start_server(handle, "0.0.0.0", PORT, backlog=1024, reuse_address=True)
    print(f"listening on 0.0.0.0:{PORT}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
