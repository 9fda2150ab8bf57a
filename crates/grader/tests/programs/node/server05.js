// Lesson 05 in Node.js, a concurrent server: node server05.js PORT [per-chunk-decode]
// One event loop instead of a thread per client. Replies "ok, 收到了" in GBK to
// every chunk; one streaming TextDecoder per connection keeps half a character.
// Fault per-chunk-decode: each chunk decoded alone, so a split character is lost.
const net = require('net');

const port = Number(process.argv[2]);
const perChunk = process.argv[3] === 'per-chunk-decode';
const reply = Buffer.from([0x6f, 0x6b, 0x2c, 0x20, 0xca, 0xd5, 0xb5, 0xbd, 0xc1, 0xcb]);

net.createServer((socket) => {
  const who = `${socket.remoteAddress}:${socket.remotePort}`;
  const decoder = new TextDecoder('gbk'); // replaces bytes that are not GBK
  socket.on('data', (data) => {
    const text = perChunk
      ? new TextDecoder('gbk').decode(data)
      : decoder.decode(data, { stream: true });
    if (text) console.log('收到:', text, who);
    socket.write(reply);
  });
  socket.on('end', () => console.log('client offline:', who));
  // Without an 'error' handler a reset would crash the whole server.
  socket.on('error', (err) => console.log('client lost:', who, err.message));
}).listen({ port, backlog: 128 });
