"""The tutorial's TCP client (section 2), as the tutorial writes it.

Only the address changed: it comes from the command line, so that the tests
can point it at a server on a port the OS chose.

    python3 tutorial_client.py [HOST [PORT]]
"""
import socket
import sys

if __name__ == '__main__':
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8080

    # 创建tcp客户端套接字 (AF_INET: ipv4, SOCK_STREAM: tcp)
    tcp_client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    # 和服务端应用程序建立连接
    tcp_client_socket.connect((host, port))

    # 准备发送的数据
    send_data = "你好服务端，我是客户端小黑!".encode("gbk")
    print('将要发送已编码成gbk的数据：', send_data)

    # 发送数据
    tcp_client_socket.send(send_data)

    # 接收数据, 这次接收的数据最大字节数是1024
    recv_data = tcp_client_socket.recv(1024)

    # 返回的直接是服务端程序发送的二进制数据
    print('服务端返回的数据', recv_data)

    # 对数据进行解码
    recv_content = recv_data.decode("gbk")
    print("接收服务端解码后的数据为:", recv_content)

    # 关闭套接字
    tcp_client_socket.close()
