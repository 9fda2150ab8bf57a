// Lesson 05 in Go, a concurrent server: go build server05.go && ./server05 PORT [pool]
// A goroutine per client; replies "ok, 收到了" in GBK to every read. Without a
// GBK codec in std, it prints the GBK bytes as they came, but only whole
// characters: a lead byte whose second byte has not come yet waits for the next
// read (one such carry per connection), so a split character prints whole.
// Fault pool: two worker goroutines serve the accepted connections in turn.
package main

import (
	"fmt"
	"net"
	"os"
)

var reply = []byte("ok, \xca\xd5\xb5\xbd\xc1\xcb") // ok, 收到了 in GBK

// whole returns how many bytes of b are whole GBK characters.
func whole(b []byte) int {
	i := 0
	for i < len(b) {
		if b[i] < 0x81 || b[i] == 0xff { // ASCII, or not GBK: one byte
			i++
		} else if i+1 == len(b) { // a lead byte at the end: wait for its pair
			return i
		} else {
			i += 2
		}
	}
	return i
}

func serve(conn net.Conn) {
	defer conn.Close()
	who := conn.RemoteAddr().String()
	buf := make([]byte, 2048)
	kept := 0
	for {
		n, err := conn.Read(buf[kept : kept+1024])
		if err != nil { // io.EOF: the client closed; otherwise a reset
			fmt.Println("client offline:", who, err)
			return
		}
		n += kept
		done := whole(buf[:n])
		if done > 0 {
			line := append([]byte("received: "), buf[:done]...)
			os.Stdout.Write(append(line, " "+who+"\n"...)) // one write per line
		}
		kept = copy(buf, buf[done:n])
		conn.Write(reply)
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: server05 PORT")
		os.Exit(2)
	}
	// Go sets SO_REUSEADDR itself, and its backlog is net.core.somaxconn, not 128.
	listener, err := net.Listen("tcp", ":"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "server05:", err)
		os.Exit(1)
	}
	pool := len(os.Args) > 2 && os.Args[2] == "pool"
	conns := make(chan net.Conn, 1024)
	if pool {
		for i := 0; i < 2; i++ {
			go func() {
				for conn := range conns {
					serve(conn)
				}
			}()
		}
	}
	for {
		conn, err := listener.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "accept:", err)
			continue
		}
		if pool {
			conns <- conn
		} else {
			go serve(conn)
		}
	}
}
