// Lesson 06 in Node.js: node buffers06.js sink|source PORT [BYTES]
// sink: counts bytes until the peer ends, replies the count in decimal.
// source: sends BYTES bytes (argument, else $BYTES), byte i being i % 251.
const net = require('net');

const [mode, port] = [process.argv[2], Number(process.argv[3])];

if (mode === 'sink') {
  // allowHalfOpen: after the peer's FIN our side stays open for the reply.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    server.close(); // one connection only
    let total = 0;
    socket.on('data', (data) => { total += data.length; });
    socket.on('end', () => socket.end(String(total)));
    socket.on('error', (err) => console.log('sink:', err.message));
  });
  server.listen({ port, backlog: 128 });
} else {
  const size = Number(process.argv[4] || process.env.BYTES || 8388608);
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = i % 251;
  // end(data) queues everything (Node writes it all) and then sends FIN.
  const socket = net.connect(port, '127.0.0.1', () => socket.end(data));
  socket.on('error', (err) => {
    console.error(`buffers06: ${err.message}`);
    process.exitCode = 1;
  });
}
