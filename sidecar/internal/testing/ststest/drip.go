package ststest

import (
	"errors"
	"io"
	"net"
	"time"
)

// ErrStillWaiting is DripBody's error when the server has not given up on the body by the deadline.
var ErrStillWaiting = errors.New("the server still waits for a dripped body")

// DripBody sends addr the headers of a POST that promises a 100,000-byte body, then one byte of
// body every tick, and returns whatever the server answers once it closes the connection. It
// fails with ErrStillWaiting if the server is still reading after giveUp.
func DripBody(addr string, tick, giveUp time.Duration) ([]byte, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: sts\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"); err != nil {
		return nil, err
	}
	answered := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(conn) // ends when the server closes the connection
		answered <- b
	}()
	deadline := time.After(giveUp)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case b := <-answered:
			return b, nil
		case <-deadline:
			conn.Close() // ends the reader
			<-answered
			return nil, ErrStillWaiting
		case <-t.C:
			_, _ = conn.Write([]byte("a")) // fails once the server has closed; the reader reports that
		}
	}
}
