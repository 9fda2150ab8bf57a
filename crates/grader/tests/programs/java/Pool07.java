// Lesson 07 in Java, a thread pool: java Pool07 PORT [unbounded]
// Four worker threads, started once, take the accepted clients from an
// ArrayBlockingQueue of 16. The accept loop never waits for room: offer()
// fails when the queue is full, and that client hears "服务器忙，请稍后再试" in
// GBK, then an end of stream (shutdownOutput, and what it had sent is read
// before close, so that close sends no reset). A client silent for 5 s
// (setSoTimeout) is closed, and its worker takes the next. Replies "ok, 收到了"
// in GBK to every read of up to 1024 bytes; prints each message through one
// CharsetDecoder per connection, set to REPLACE, so a character split across
// two reads prints whole. Prints through its own UTF-8 PrintStream, whatever
// the locale. Fault "unbounded": a LinkedBlockingQueue without a bound, which
// never refuses anyone.
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

public class Pool07 {
    static final int WORKERS = 4;
    static final int QUEUE = 16;
    static final int IDLE_MS = 5000;
    static final Charset GBK = Charset.forName("GBK");
    static final byte[] REPLY = "ok, 收到了".getBytes(GBK);
    static final byte[] BUSY = "服务器忙，请稍后再试".getBytes(GBK);
    static final PrintStream OUT =
            new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        boolean unbounded = args.length > 1 && args[1].equals("unbounded");
        BlockingQueue<Socket> waiting =
                unbounded ? new LinkedBlockingQueue<>() : new ArrayBlockingQueue<>(QUEUE);

        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(port), 128);
        OUT.println("listening on 0.0.0.0:" + port + ", " + WORKERS + " workers, a queue of "
                + (unbounded ? "no bound" : QUEUE) + ", silent clients closed after 5 s");
        for (int i = 0; i < WORKERS; i++) {
            Thread worker = new Thread(() -> work(waiting), "worker-" + i);
            worker.setDaemon(true);
            worker.start();
        }
        byte[] drain = new byte[4096];
        while (true) {
            Socket conn;
            try {
                conn = server.accept();
            } catch (IOException e) {
                // Out of file descriptors, say: the server goes on.
                OUT.println("accept failed: " + e.getMessage());
                sleep(100);
                continue;
            }
            if (!waiting.offer(conn)) {
                refuse(conn, drain);
            }
        }
    }

    /** A worker: takes the next client, serves it, and again. */
    static void work(BlockingQueue<Socket> waiting) {
        while (true) {
            Socket conn;
            try {
                conn = waiting.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                serve(conn);
            } catch (RuntimeException e) {
                // Whatever happens to one client, the worker goes on.
                OUT.println("worker: " + e);
            }
        }
    }

    /**
     * The queue is full: the busy reply, an end of stream, and close. Nothing
     * here waits (the accept loop must not): a fresh socket's send buffer
     * takes 20 bytes at once, and available() reads only what is already
     * there, so that close() finds nothing unread and sends no reset.
     */
    static void refuse(Socket conn, byte[] drain) {
        String who = String.valueOf(conn.getRemoteSocketAddress());
        try (conn) {
            conn.getOutputStream().write(BUSY);
            conn.shutdownOutput();
            InputStream in = conn.getInputStream();
            int read = 0;
            int n;
            while (read < 65536 && (n = in.available()) > 0) {
                read += Math.max(0, in.read(drain, 0, Math.min(n, drain.length)));
            }
        } catch (IOException e) {
            // Reset already: nothing to tell it.
        }
        OUT.println("server busy: refused " + who);
    }

    /** Serves one client until it leaves, resets, or stays silent 5 s. */
    static void serve(Socket conn) {
        String who = String.valueOf(conn.getRemoteSocketAddress());
        CharsetDecoder decoder = GBK.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        ByteBuffer bytes = ByteBuffer.allocate(2048);
        CharBuffer text = CharBuffer.allocate(2048);
        try (conn) {
            // The deadline starts when a worker takes the client: each read
            // waits at most 5 s. (Java sockets have no timeout for writes.)
            conn.setSoTimeout(IDLE_MS);
            InputStream in = conn.getInputStream();
            OutputStream out = conn.getOutputStream();
            while (true) {
                int n;
                try {
                    n = in.read(bytes.array(), bytes.position(), Math.min(1024, bytes.remaining()));
                } catch (SocketTimeoutException e) {
                    OUT.println("client idle, closing: " + who);
                    return;
                }
                if (n == -1) {
                    OUT.println("client offline: " + who);
                    return;
                }
                bytes.position(bytes.position() + n);
                bytes.flip();
                decoder.decode(bytes, text, false); // half a character stays in `bytes`
                bytes.compact();
                text.flip();
                if (text.hasRemaining()) {
                    OUT.println("received: " + text + " " + who);
                }
                text.clear();
                out.write(REPLY);
            }
        } catch (IOException e) {
            // A reset, or a client gone while we replied: this client only.
            OUT.println("client dropped: " + who + " (" + e.getMessage() + ")");
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
