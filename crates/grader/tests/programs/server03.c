/* Lesson 03 in C, a single server: ./server PORT
   Compiled with FAULT_UTF8 it replies in UTF-8; with FAULT_NO_REUSE it
   forgets SO_REUSEADDR; with FAULT_UNCHECKED_BIND it binds to 192.0.2.1 (an
   address this machine does not have) and ignores bind's error, so listen()
   binds a random port instead of PORT; with FAULT_NO_HTONS it forgets htons(),
   so it listens on PORT with its two bytes swapped; with FAULT_BROADCAST_BIND
   it binds to 255.255.255.255, which Linux accepts, and which nobody on
   127.0.0.1 can reach. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    int server = socket(AF_INET, SOCK_STREAM, 0);
#ifndef FAULT_NO_REUSE
    int on = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
#endif
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(port);
#ifdef FAULT_NO_HTONS
    addr.sin_port = (unsigned short)port;
#endif
#ifdef FAULT_BROADCAST_BIND
    addr.sin_addr.s_addr = htonl(INADDR_BROADCAST);
#endif
#ifdef FAULT_UNCHECKED_BIND
    inet_pton(AF_INET, "192.0.2.1", &addr.sin_addr);
    bind(server, (struct sockaddr *)&addr, sizeof addr);
#else
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind"); return 1; }
#endif
    if (listen(server, 128) != 0) { perror("listen"); return 1; }
    int conn = accept(server, NULL, NULL);
    if (conn < 0) { perror("accept"); return 1; }
    char buf[1024];
    ssize_t n = recv(conn, buf, sizeof buf, 0);
    if (n > 0) {
        /* The terminal shows bytes as they are; the grader accepts GBK. */
        fwrite("received: ", 1, 10, stdout);
        fwrite(buf, 1, (size_t)n, stdout);
        fputc('\n', stdout);
    }
#ifdef FAULT_UTF8
    const char *reply = "ok, \xe9\x97\xae\xe9\xa2\x98";            /* 问题 in UTF-8 */
#else
    const char *reply = "ok, \xce\xca\xcc\xe2\xd5\xfd\xd4\xda\xb4\xa6\xc0\xed\xd6\xd0..."; /* GBK */
#endif
    size_t len = strlen(reply), sent = 0;
    while (sent < len) {
        ssize_t k = send(conn, reply + sent, len - sent, 0);
        if (k <= 0) break;
        sent += (size_t)k;
    }
    close(conn);
    close(server);
    return 0;
}
