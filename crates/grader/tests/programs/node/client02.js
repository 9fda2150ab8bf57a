// Lesson 02 in Node.js, a client: node client02.js HOST PORT
// Sends a message in GBK, prints the reply decoded from GBK, ends the connection.
const net = require('net');

const host = process.argv[2];
const port = Number(process.argv[3]);
// 你好服务端，我是客户端小黑! in GBK: Buffer has no GBK encoder, TextDecoder only decodes.
const message = Buffer.from([
  0xc4, 0xe3, 0xba, 0xc3, 0xb7, 0xfe, 0xce, 0xf1, 0xb6, 0xcb, 0xa3, 0xac, 0xce, 0xd2,
  0xca, 0xc7, 0xbf, 0xcd, 0xbb, 0xa7, 0xb6, 0xcb, 0xd0, 0xa1, 0xba, 0xda, 0x21,
]);

const socket = net.connect(port, host, () => socket.write(message));
socket.once('data', (data) => {
  // Not fatal: bytes that are not GBK are replaced, never thrown.
  console.log('收到:', new TextDecoder('gbk').decode(data));
  socket.end(); // FIN; the process ends once the server has closed too
});
socket.on('error', (err) => {
  console.error(`client02: ${host}:${port}: ${err.message}`);
  process.exitCode = 1;
});
