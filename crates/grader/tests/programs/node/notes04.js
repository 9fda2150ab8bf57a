// Lesson 04 in Node.js, both sides: node notes04.js server|client PORT
// server: answers "ok" to every message; when a client ends, Node ends our side too.
// client: sends one line from standard input, prints replies until the server closes.
const net = require('net');
const readline = require('readline');

const [mode, port] = [process.argv[2], Number(process.argv[3])];

if (mode === 'server') {
  net.createServer((socket) => {
    const who = `${socket.remoteAddress}:${socket.remotePort}`;
    const decoder = new TextDecoder('gbk');
    socket.on('data', (data) => {
      console.log('收到:', decoder.decode(data, { stream: true }), who);
      socket.write('ok');
    });
    socket.on('end', () => console.log('client offline:', who)); // recv returned 0
    socket.on('error', (err) => console.log('client lost:', who, err.message));
  }).listen({ port, backlog: 128 });
} else {
  const socket = net.connect(port, '127.0.0.1');
  const decoder = new TextDecoder('gbk');
  const input = readline.createInterface({ input: process.stdin });
  let sent = false;
  const send = (line) => {
    if (sent) return;
    sent = true;
    // One line is all we need. input.close() only pauses stdin, and a paused
    // pipe still keeps Node running: destroy it, or the client never exits.
    input.close();
    process.stdin.destroy();
    // No GBK encoder in Node: the line goes out as UTF-8 (the same bytes when it is ASCII).
    socket.write(line.trim() || 'hello');
  };
  input.once('line', send);
  input.once('close', () => send('')); // stdin ended without a line
  socket.on('data', (data) => console.log('收到:', decoder.decode(data, { stream: true })));
  socket.on('end', () => console.log('the server closed the connection'));
  socket.on('error', (err) => {
    console.error(`notes04: ${err.message}`);
    process.exit(1);
  });
}
