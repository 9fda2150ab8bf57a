"""The tutorial's multi-threaded TCP server (section 5), as the tutorial writes it.

Two changes: the port (and host) come from the command line, and once it
listens it prints `listening on IP:PORT`, so that tests and benchmarks can
start it on port 0 and find the port the OS chose. (`daemon = True` replaces
the tutorial's `setDaemon(True)`, which Python 3.10 deprecated.)

    python3 tutorial_threaded_server.py [PORT [HOST]]
"""
import socket
import sys
import threading


def handle_request(s_client_socket, ip_port):
    # 接收的数据不确定长度，所以来个死循环
    while True:
        # 接收客户端的数据
        data = s_client_socket.recv(1024)
        if data:
            print('接收的数据：', data.decode('gbk'), ip_port)
            # 回复
            s_client_socket.send('ok, 收到了'.encode('gbk'))
        else:
            print('客户端下线', ip_port)
            break
    # 终止和客户端进行通信
    s_client_socket.close()


def server_star(port, host):
    # 创建服务端套接字对象
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    # 设置端口号复用，让程序退出端口号立即释放
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)

    # 绑定端口号
    server.bind((host, port))

    # 设置监听
    server.listen(128)
    print("listening on %s:%d" % server.getsockname()[:2], flush=True)

    # 开启死循环
    while True:
        # 等待接收客户端的连接请求
        s_client_socket, ip_port = server.accept()
        print('客户端连接成功:', ip_port)

        # 创建一个子线程，不同子线程负责接收不同客户端的消息
        sub_thread = threading.Thread(target=handle_request, args=(s_client_socket, ip_port))
        # 设置守护主线程
        sub_thread.daemon = True
        # 启动子线程
        sub_thread.start()


if __name__ == '__main__':
    server_star(int(sys.argv[1]) if len(sys.argv) > 1 else 8080,
                sys.argv[2] if len(sys.argv) > 2 else "")
