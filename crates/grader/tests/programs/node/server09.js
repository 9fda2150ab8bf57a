// Lesson 09 in Node.js, async: node server09.js reply|echo PORT
// The net module's event loop, one thread for every client: lesson 08's
// design as well, which it passes too (lesson 08 sends no `slow`).
//
// reply: each chunk read is a message, printed through one streaming
// TextDecoder('gbk') per connection (half a character waits for the next
// chunk) and answered "ok, 收到了" in GBK. The message `slow` is answered after
// one second of blocking work (Atomics.wait, standing for a slow library
// call), run on a pool of worker threads, as many as Python's default
// executor would start (the CPUs + 4, 32 at most), each started when first
// needed: the loop goes on serving the others meanwhile (tokio's
// spawn_blocking, asyncio's run_in_executor). Its client's socket is paused
// until the reply is written, so that one client's replies stay in order;
// allowHalfOpen lets a client that sends `slow` and ends its side at once
// still get its reply before the server's FIN.
//
// echo: socket.pipe(socket) sends every byte back in order; pipe() stops
// reading (pause) while the socket's output is over its high-water mark and
// reads again on 'drain': the backpressure. At the client's end of stream,
// what is still owed is written before the FIN.
'use strict';
const net = require('net');
const os = require('os');
const { Worker } = require('worker_threads');

const [mode, portArg] = process.argv.slice(2);
if ((mode !== 'reply' && mode !== 'echo') || !portArg) {
  console.error('usage: node server09.js reply|echo PORT');
  process.exit(2);
}
const reply = Buffer.from([0x6f, 0x6b, 0x2c, 0x20, 0xca, 0xd5, 0xb5, 0xbd, 0xc1, 0xcb]);

// The blocking work, in a worker thread: a second in Atomics.wait, which
// blocks its thread as a slow library call would.
const WORKER = `const { parentPort } = require('worker_threads');
const cell = new Int32Array(new SharedArrayBuffer(4));
parentPort.on('message', () => {
  Atomics.wait(cell, 0, 0, 1000);
  parentPort.postMessage('done');
});`;
const POOL = Math.min(32, os.availableParallelism() + 4);
const idle = [];
const queued = [];
let started = 0;

// Runs the blocking work on a free worker, then calls done on the loop.
function runBlocking(done) {
  let worker = idle.pop();
  if (!worker && started < POOL) {
    started += 1;
    worker = new Worker(WORKER, { eval: true });
    worker.on('error', (err) => console.error('worker:', err.message));
  }
  if (worker) {
    give(worker, done);
  } else {
    queued.push(done); // every worker busy: the next free one takes it
  }
}

function give(worker, done) {
  worker.once('message', () => {
    const next = queued.shift();
    if (next) give(worker, next);
    else idle.push(worker);
    done();
  });
  worker.postMessage('go');
}

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  // Without an 'error' handler a reset would crash the whole server.
  const who = `${socket.remoteAddress}:${socket.remotePort}`;
  socket.on('error', (err) => {
    if (mode === 'reply') console.log('client lost:', who, err.message);
  });
  if (mode === 'echo') {
    socket.pipe(socket);
    return;
  }
  console.log('client connected:', who);
  const decoder = new TextDecoder('gbk'); // replaces bytes that are not GBK
  let slow = false; // a slow request is in progress
  let ended = false; // the client has ended its side
  socket.on('data', (data) => {
    const text = decoder.decode(data, { stream: true });
    if (text) console.log('received:', text, who);
    if (data.length === 4 && data.toString('latin1') === 'slow') {
      slow = true;
      socket.pause(); // its next message waits for this reply
      runBlocking(() => {
        slow = false;
        if (socket.destroyed) return;
        socket.write(reply);
        if (ended) socket.end();
        else socket.resume();
      });
    } else {
      socket.write(reply);
    }
  });
  // 'end' comes once every chunk read has been handled (even while paused):
  // the FIN goes after the replies still owed.
  socket.on('end', () => {
    console.log('client offline:', who);
    ended = true;
    if (!slow) socket.end();
  });
});
server.on('error', (err) => {
  console.error('server09:', err.message);
  process.exit(1);
});
server.listen({ port: Number(portArg), backlog: 1024 }, () => {
  console.log(`listening on port ${portArg}`);
});
