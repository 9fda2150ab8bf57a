// Lesson 09 in Go, a task per client: go build server09.go && ./server09 reply|echo PORT
// A goroutine per connection: the runtime runs them on a few threads and
// parks a goroutine that waits for its socket (the netpoller, epoll), so a
// thousand silent clients cost no thread each. Go raises its open-file limit
// (RLIMIT_NOFILE) to the hard limit itself.
//
// reply: each read of up to 1024 bytes is a message, answered "ok, 收到了" in
// GBK. Without a GBK codec in std, it prints the GBK bytes as they came, but
// only whole characters: a lead byte whose second byte has not come yet waits
// for the next read (one such carry per connection), so a split character
// prints whole. The message `slow` is answered after one second of blocking
// work: a real blocking system call (nanosleep), standing for a slow library
// call; the runtime hands the other goroutines to another thread while this
// one is blocked, so no other client waits (Go's spawn_blocking is built in).
// The replies of one client stay in order: its goroutine reads its next
// message only after replying.
//
// echo: every byte sent back, in order. A write blocks this goroutine until
// the client has taken the bytes, and it reads nothing meanwhile: that is the
// backpressure, and a client that never reads holds 64 KiB and nothing more.
// At the client's end of stream, everything read has been written: close.
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
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

// blockingWork blocks this thread for one second in a system call, as a slow
// library call would (time.Sleep would only park the goroutine).
func blockingWork() {
	left := syscall.Timespec{Sec: 1}
	for {
		var rest syscall.Timespec
		err := syscall.Nanosleep(&left, &rest)
		if !errors.Is(err, syscall.EINTR) {
			return
		}
		left = rest // interrupted by a signal: sleep what is left
	}
}

func serveReply(conn net.Conn) {
	defer conn.Close()
	who := conn.RemoteAddr().String()
	fmt.Println("client connected:", who)
	buf := make([]byte, 2048)
	kept := 0
	for {
		n, err := conn.Read(buf[kept : kept+1024])
		if err != nil { // io.EOF: the client closed; otherwise a reset
			fmt.Println("client offline:", who, err)
			return
		}
		message := buf[kept : kept+n]
		slow := string(message) == "slow"
		n += kept
		done := whole(buf[:n])
		if done > 0 {
			line := append([]byte("received: "), buf[:done]...)
			os.Stdout.Write(append(line, " "+who+"\n"...)) // one write per line
		}
		kept = copy(buf, buf[done:n])
		if slow {
			blockingWork()
		}
		if _, err := conn.Write(reply); err != nil {
			fmt.Println("client lost:", who, err)
			return
		}
	}
}

func serveEcho(conn net.Conn) {
	defer conn.Close()
	buf := make([]byte, 64*1024)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			if _, werr := conn.Write(buf[:n]); werr != nil {
				return // a reset: this client only
			}
		}
		if err != nil { // io.EOF once all is echoed, or a reset
			return
		}
	}
}

func main() {
	if len(os.Args) < 3 || (os.Args[1] != "reply" && os.Args[1] != "echo") {
		fmt.Fprintln(os.Stderr, "usage: server09 reply|echo PORT")
		os.Exit(2)
	}
	echo := os.Args[1] == "echo"
	// Go sets SO_REUSEADDR itself, and its backlog is net.core.somaxconn.
	listener, err := net.Listen("tcp", ":"+os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "server09:", err)
		os.Exit(1)
	}
	fmt.Println("listening on", listener.Addr())
	for {
		conn, err := listener.Accept()
		if err != nil {
			// Out of file descriptors, say: wait a little rather than spin.
			fmt.Fprintln(os.Stderr, "accept:", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if echo {
			go serveEcho(conn)
		} else {
			go serveReply(conn)
		}
	}
}
