// Lesson 04 in Java, both sides: java Notes04 server|client PORT
// server: serves clients one after another until each closes (read returns -1).
// client: sends a line from standard input, prints replies until the server closes.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.Charset;

public class Notes04 {
    static final Charset GBK = Charset.forName("GBK");

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[1]);
        if (args[0].equals("server")) {
            serve(port);
        } else {
            talk(port);
        }
    }

    static void serve(int port) throws IOException {
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(port), 128);
        while (true) {
            try (Socket conn = server.accept()) {
                InputStream in = conn.getInputStream();
                byte[] buffer = new byte[1024];
                int n;
                // Java's read returns -1 where C's recv returns 0: the client closed.
                while ((n = in.read(buffer)) != -1) {
                    System.out.println("收到: " + new String(buffer, 0, n, GBK));
                    conn.getOutputStream().write("ok".getBytes(GBK));
                }
                System.out.println("client offline: " + conn.getRemoteSocketAddress());
            } catch (IOException e) {
                System.out.println("client lost: " + e.getMessage()); // a reset
            }
        }
    }

    static void talk(int port) throws IOException {
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in));
        try (Socket socket = new Socket("127.0.0.1", port)) {
            String line = stdin.readLine();
            if (line == null || line.isBlank()) {
                line = "你好";
            }
            socket.getOutputStream().write(line.getBytes(GBK));
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[1024];
            int n;
            while ((n = in.read(buffer)) != -1) {
                System.out.println("收到: " + new String(buffer, 0, n, GBK));
            }
            System.out.println("the server closed the connection");
        }
    }
}
