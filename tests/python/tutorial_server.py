"""The tutorial's TCP server (section 3), as the tutorial writes it.

Two changes: the port (and host) come from the command line, and once it
listens it prints `listening on IP:PORT`, so that the tests can start it on
port 0 and find the port the OS chose.

    python3 tutorial_server.py [PORT [HOST]]
"""
import socket
import sys

if __name__ == '__main__':
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    host = sys.argv[2] if len(sys.argv) > 2 else ""

    # 创建服务端套接字对象
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    # 设置端口号复用，让程序退出端口号立即释放
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)

    # 绑定端口号
    server.bind((host, port))

    # 设置监听
    server.listen(128)
    print("listening on %s:%d" % server.getsockname()[:2], flush=True)

    # 等待客户端建立连接的请求
    service_client_socket, ip_port = server.accept()

    print("接收到客户端的ip地址和端口号:", ip_port)

    # 接收客户端发送的数据, 这次接收数据的最大字节数是1024
    recv_data = service_client_socket.recv(1024)

    # 对二进制数据进行解码
    recv_content = recv_data.decode("gbk")
    print("接收客户端的数据为:", recv_content)

    # 准备发送的数据
    send_data = "ok, 问题正在处理中...".encode("gbk")
    # 发送数据给客户端
    service_client_socket.send(send_data)

    # 关闭服务与客户端的套接字
    service_client_socket.close()
    # 关闭服务端的套接字
    server.close()
