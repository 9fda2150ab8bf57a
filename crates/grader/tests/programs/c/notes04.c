/* Lesson 04 in C, both sides: ./notes04 server|client PORT
   server: serves clients one after another until each closes (recv returns 0).
   client: sends a line from standard input, prints replies until the server closes.
   Faults: -DFAULT_SPIN goes on calling recv after it returned 0 (100% CPU);
   -DFAULT_NO_CLOSE stops reading but never close()s the client's socket. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void serve(int port) {
    int server = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind"); exit(1); }
    if (listen(server, 128) != 0) { perror("listen"); exit(1); }
    for (;;) {
        int conn = accept(server, NULL, NULL);
        if (conn < 0) { perror("accept"); continue; }
        char buf[1024];
        for (;;) {
            ssize_t n = recv(conn, buf, sizeof buf, 0);
            if (n < 0) { perror("recv"); break; }           /* a reset */
#ifdef FAULT_SPIN
            if (n == 0) continue;
#else
            if (n == 0) { printf("client offline\n"); fflush(stdout); break; }
#endif
            printf("received: %.*s\n", (int)n, buf);         /* GBK bytes as they came */
            fflush(stdout);
            send(conn, "ok", 2, MSG_NOSIGNAL);
        }
#ifndef FAULT_NO_CLOSE
        close(conn);
#endif
    }
}

static int talk(int port) {
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); return 1; }
    char line[1024] = "";
    if (!fgets(line, sizeof line, stdin) || line[0] == '\n') strcpy(line, "hello");
    line[strcspn(line, "\n")] = '\0';
    send(sock, line, strlen(line), MSG_NOSIGNAL);
    char buf[1024];
    ssize_t n;
    while ((n = recv(sock, buf, sizeof buf, 0)) > 0) {
        printf("received: %.*s\n", (int)n, buf);
        fflush(stdout);
    }
    printf("the server closed the connection\n");
    close(sock);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s server|client PORT\n", argv[0]); return 2; }
    if (strcmp(argv[1], "server") == 0) serve(atoi(argv[2]));
    return talk(atoi(argv[2]));
}
