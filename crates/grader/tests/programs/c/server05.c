/* Lesson 05 in C, a threaded server: ./server05 PORT
   A thread per client; replies "ok, 收到了" in GBK to every recv; decodes with
   iconv (GBK to UTF-8), one iconv_t per connection, keeping half a character
   for the next recv and printing U+FFFD for a byte that is not GBK.
   -DFAULT_STDERR logs the messages to stderr instead of stdout. */
#include <errno.h>
#include <iconv.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef FAULT_STDERR
#define LOG stderr
#else
#define LOG stdout
#endif

static const char reply[] = "ok, \xca\xd5\xb5\xbd\xc1\xcb"; /* ok, 收到了 */

static void *serve(void *arg) {
    int conn = (int)(intptr_t)arg;
    iconv_t gbk = iconv_open("UTF-8", "GBK");
    char in[2048], out[3 * sizeof in];
    size_t kept = 0; /* bytes of a character that is not complete yet */
    ssize_t n;
    while ((n = recv(conn, in + kept, 1024, 0)) > 0) { /* 0: closed, -1: reset */
        char *src = in, *dst = out;
        size_t left = kept + (size_t)n, room = sizeof out;
        while (left > 0 && iconv(gbk, &src, &left, &dst, &room) == (size_t)-1) {
            if (errno == EINVAL) break;          /* half a character: keep it */
            memcpy(dst, "\xef\xbf\xbd", 3);      /* EILSEQ: not GBK */
            dst += 3, room -= 3, src++, left--;
        }
        memmove(in, src, left);
        kept = left;
        fprintf(LOG, "received: %.*s\n", (int)(dst - out), out);
        fflush(LOG);
        send(conn, reply, sizeof reply - 1, MSG_NOSIGNAL);
    }
    iconv_close(gbk);
    close(conn);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
    int server = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    if (bind(server, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind"); return 1; }
    if (listen(server, 128) != 0) { perror("listen"); return 1; }
    for (;;) {
        int conn = accept(server, NULL, NULL);
        if (conn < 0) { perror("accept"); continue; }
        pthread_t thread;
        if (pthread_create(&thread, NULL, serve, (void *)(intptr_t)conn) != 0) {
            perror("pthread_create");
            close(conn);
            continue;
        }
        pthread_detach(thread);
    }
}
