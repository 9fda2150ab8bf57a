// Lesson 02 in Java, a client: java Client02 HOST PORT [literal]
// Sends a message in GBK, prints the reply decoded from GBK, closes.
// Fault "literal": never reads the reply and prints the tutorial's words instead.
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.Charset;

public class Client02 {
    public static void main(String[] args) throws IOException {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        boolean literal = args.length > 2 && args[2].equals("literal");
        Charset gbk = Charset.forName("GBK");

        Socket socket;
        try {
            socket = new Socket(host, port);
        } catch (IOException e) {
            System.err.println("Client02: cannot connect to " + host + ":" + port + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        socket.getOutputStream().write("你好服务端，我是客户端小黑!".getBytes(gbk));
        if (literal) {
            System.out.println("收到: 我是服务器");
        } else {
            byte[] buffer = new byte[1024];
            int n = socket.getInputStream().read(buffer);
            // new String(..., gbk) puts U+FFFD for bytes that are not GBK: it never throws.
            System.out.println("收到: " + new String(buffer, 0, Math.max(n, 0), gbk));
        }
        socket.close();
    }
}
