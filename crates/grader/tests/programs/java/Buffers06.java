// Lesson 06 in Java: java Buffers06 sink|source PORT [BYTES]
// sink: counts bytes until the peer closes, replies the count in decimal.
// source: sends BYTES bytes (argument, else $BYTES), byte i being i % 251.
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class Buffers06 {
    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[1]);
        if (args[0].equals("sink")) {
            ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(port), 128);
            try (Socket conn = server.accept()) {
                InputStream in = conn.getInputStream();
                byte[] buffer = new byte[65536];
                long total = 0;
                int n;
                while ((n = in.read(buffer)) != -1) {
                    total += n;
                }
                conn.getOutputStream().write(Long.toString(total).getBytes(StandardCharsets.US_ASCII));
            }
            server.close();
        } else {
            String size = args.length > 2 && !args[2].isEmpty() ? args[2] : System.getenv("BYTES");
            int count = Integer.parseInt(size == null ? "8388608" : size);
            byte[] data = new byte[count];
            for (int i = 0; i < count; i++) {
                data[i] = (byte) (i % 251);
            }
            try (Socket socket = new Socket("127.0.0.1", port)) {
                // write() returns only when every byte is in the kernel's buffer.
                socket.getOutputStream().write(data);
            }
        }
    }
}
