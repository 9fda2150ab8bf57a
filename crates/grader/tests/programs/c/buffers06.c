/* Lesson 06 in C: ./buffers06 sink|source PORT [BYTES]
   sink: counts bytes until the peer closes, replies the count in decimal.
   source: sends BYTES bytes (argument, else $BYTES), byte i being i % 251,
   calling send() again for whatever a send() did not take. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s sink|source PORT [BYTES]\n", argv[0]); return 2; }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    if (strcmp(argv[1], "sink") == 0) {
        int server = socket(AF_INET, SOCK_STREAM, 0), on = 1;
        setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind"); return 1; }
        if (listen(server, 128) != 0) { perror("listen"); return 1; }
        int conn = accept(server, NULL, NULL);
        if (conn < 0) { perror("accept"); return 1; }
        static char buf[65536];
        long long total = 0;
        ssize_t n;
        while ((n = recv(conn, buf, sizeof buf, 0)) > 0) total += n;
        if (n < 0) perror("recv");
        int len = snprintf(buf, sizeof buf, "%lld", total);
        send(conn, buf, (size_t)len, MSG_NOSIGNAL);
        close(conn);
        close(server);
        return 0;
    }
    const char *size = argc > 3 && *argv[3] ? argv[3] : getenv("BYTES");
    size_t count = size ? strtoull(size, NULL, 10) : 8388608;
    unsigned char *data = malloc(count ? count : 1);
    for (size_t i = 0; i < count; i++) data[i] = (unsigned char)(i % 251);
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); return 1; }
    size_t sent = 0;
    while (sent < count) {
        ssize_t k = send(sock, data + sent, count - sent, MSG_NOSIGNAL);
        if (k < 0) { perror("send"); return 1; }
        sent += (size_t)k;
    }
    close(sock);
    free(data);
    return 0;
}
