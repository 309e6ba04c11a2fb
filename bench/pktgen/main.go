// pktgen sends UDP datagrams as fast as it can for a while, or counts the ones it receives, and prints
// what it measured as JSON. The firewall benchmark runs the sender in one network namespace and the
// receiver in another, with the firewall's namespace between them: the receiver never answers, so every
// datagram is a packet of a connection conntrack has not seen answered and runs through the whole
// forward chain, which is the cost being compared. A Go sender needs far less CPU per packet than a
// Node one, so the ruleset's cost shows instead of the generator's.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

type result struct {
	Packets int     `json:"packets"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"perSecond"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pktgen send|recv [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "", "send: destination host:port; recv: listen host:port")
	duration := fs.Duration("d", 3*time.Second, "how long to send or count")
	size := fs.Int("size", 64, "payload bytes")
	_ = fs.Parse(os.Args[2:])
	var r result
	var err error
	switch os.Args[1] {
	case "send":
		r, err = send(*addr, *duration, *size)
	case "recv":
		r, err = recv(*addr, *duration)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pktgen:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

func send(addr string, d time.Duration, size int) (result, error) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return result{}, err
	}
	defer conn.Close()
	buf := make([]byte, size)
	start := time.Now()
	end := start.Add(d)
	n := 0
	for {
		// The clock is read every 256 datagrams: a time.Now per send would be a cost of its own.
		if n&255 == 0 && time.Now().After(end) {
			break
		}
		if _, err := conn.Write(buf); err == nil {
			n++
		}
	}
	s := time.Since(start).Seconds()
	return result{Packets: n, Seconds: s, PerSec: float64(n) / s}, nil
}

func recv(addr string, d time.Duration) (result, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return result{}, err
	}
	defer pc.Close()
	_ = pc.(*net.UDPConn).SetReadBuffer(8 << 20)
	buf := make([]byte, 65536)
	n := 0
	var first, last time.Time
	_ = pc.SetReadDeadline(time.Now().Add(d))
	for {
		if _, _, err := pc.ReadFrom(buf); err != nil {
			break
		}
		last = time.Now()
		if n == 0 {
			first = last
		}
		n++
	}
	s := last.Sub(first).Seconds()
	if s <= 0 {
		return result{Packets: n}, nil
	}
	return result{Packets: n, Seconds: s, PerSec: float64(n) / s}, nil
}
