// Lesson 03 in Java, a single server: java Server03 PORT
// Accepts one client, prints its message decoded from GBK, replies in GBK, closes.
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.Charset;

public class Server03 {
    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        Charset gbk = Charset.forName("GBK");

        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true); // before bind, as setsockopt(SO_REUSEADDR)
        server.bind(new InetSocketAddress(port), 128);
        Socket client = server.accept();
        byte[] buffer = new byte[1024];
        int n = client.getInputStream().read(buffer);
        if (n > 0) {
            // Bytes that are not GBK become U+FFFD instead of an exception.
            String text = new String(buffer, 0, n, gbk);
            System.out.println("收到: " + text + " " + client.getRemoteSocketAddress());
        }
        client.getOutputStream().write("ok, 问题正在处理中...".getBytes(gbk));
        client.close();
        server.close();
    }
}
