// Lesson 03 in Node.js, a single server: node server03.js PORT
// Accepts one client, prints its message decoded from GBK, replies in GBK, closes.
// libuv sets SO_REUSEADDR on every listening socket, so restarting works.
const net = require('net');

const port = Number(process.argv[2]);
// ok, 问题正在处理中... in GBK
const reply = Buffer.from([
  0x6f, 0x6b, 0x2c, 0x20, 0xce, 0xca, 0xcc, 0xe2, 0xd5, 0xfd, 0xd4, 0xda,
  0xb4, 0xa6, 0xc0, 0xed, 0xd6, 0xd0, 0x2e, 0x2e, 0x2e,
]);

const server = net.createServer((socket) => {
  socket.once('data', (data) => {
    console.log('收到:', new TextDecoder('gbk').decode(data), socket.remoteAddress);
    socket.write(reply);
    socket.end(); // close the client's side (after the reply is sent)
    server.close(); // stop listening; the process exits when the client has gone
  });
  socket.on('error', (err) => console.log('client lost:', err.message));
});
server.listen({ port, backlog: 128 });
