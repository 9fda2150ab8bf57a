// Lesson 05 in Java, a threaded server: java Server05 PORT [pool]
// A thread per client; replies "ok, 收到了" in GBK to every read; prints each
// message through one CharsetDecoder per connection, so a character split
// across two reads prints whole. Fault "pool": a fixed pool of 2 threads.
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

public class Server05 {
    static final Charset GBK = Charset.forName("GBK");
    static final byte[] REPLY = "ok, 收到了".getBytes(GBK);

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        boolean pool = args.length > 1 && args[1].equals("pool");
        ExecutorService workers = pool ? Executors.newFixedThreadPool(2) : null;

        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(port), 128);
        while (true) {
            Socket conn = server.accept();
            if (pool) {
                workers.submit(() -> handle(conn));
            } else {
                new Thread(() -> handle(conn)).start();
            }
        }
    }

    static void handle(Socket conn) {
        CharsetDecoder decoder = GBK.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        ByteBuffer bytes = ByteBuffer.allocate(2048);
        CharBuffer text = CharBuffer.allocate(2048);
        String who = conn.getRemoteSocketAddress().toString();
        try (conn) {
            InputStream in = conn.getInputStream();
            int n;
            while ((n = in.read(bytes.array(), bytes.position(), bytes.remaining())) != -1) {
                bytes.position(bytes.position() + n);
                bytes.flip();
                decoder.decode(bytes, text, false); // half a character stays in `bytes`
                bytes.compact();
                text.flip();
                if (text.hasRemaining()) {
                    System.out.println("收到: " + text + " " + who);
                }
                text.clear();
                conn.getOutputStream().write(REPLY);
            }
            System.out.println("client offline: " + who);
        } catch (IOException e) {
            System.out.println("client lost: " + who + ": " + e.getMessage());
        }
    }
}
