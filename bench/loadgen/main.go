// loadgen sends one pre-encoded gRPC request over and over from N concurrent callers for a while and
// prints what it measured as JSON. The benchmarks use it as the load generator because a Go client
// spends far less CPU per call than a Node one, and client and server share the host's cores.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// rawCodec passes the request bytes through and keeps the response bytes undecoded.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = data
	return nil
}
func (rawCodec) Name() string { return "proto" }

type result struct {
	Calls   int     `json:"calls"`
	Seconds float64 `json:"seconds"`
	P50Ms   float64 `json:"p50Ms"`
	P99Ms   float64 `json:"p99Ms"`
}

func main() {
	addr := flag.String("addr", "", "host:port of the server")
	method := flag.String("method", "", "full method, e.g. /pkg.Service/Method")
	data := flag.String("data", "", "file holding the encoded request message")
	concurrency := flag.Int("c", 8, "concurrent callers, spread over the connections")
	conns := flag.Int("conns", 1, "connections (each a client of its own)")
	duration := flag.Duration("d", 5*time.Second, "measured duration")
	warmup := flag.Duration("warmup", time.Second, "unmeasured calls first")
	window := flag.Int("window", 4<<20, "HTTP/2 flow-control window in bytes (stream and connection)")
	buffer := flag.Int("buffer", 1<<20, "socket read and write buffer of each connection in bytes")
	flag.Parse()
	// Responses are garbage at once and little else is live: collecting less often leaves more of the
	// host's CPU to the server being measured.
	debug.SetGCPercent(400)
	if *addr == "" || *method == "" || *data == "" {
		fmt.Fprintln(os.Stderr, "loadgen: -addr, -method and -data are required")
		os.Exit(2)
	}
	if *conns < 1 || *concurrency < 1 {
		fmt.Fprintln(os.Stderr, "loadgen: -c and -conns must be at least 1")
		os.Exit(2)
	}
	req, err := os.ReadFile(*data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	clients := make([]*grpc.ClientConn, *conns)
	for i := range clients {
		conn, err := grpc.NewClient(*addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)),
			grpc.WithInitialWindowSize(int32(*window)),
			grpc.WithInitialConnWindowSize(int32(*window)),
			grpc.WithReadBufferSize(*buffer),
			grpc.WithWriteBufferSize(*buffer))
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(2)
		}
		defer conn.Close()
		clients[i] = conn
	}
	run := func(d time.Duration) ([]time.Duration, error) {
		end := time.Now().Add(d)
		var mu sync.Mutex
		var all []time.Duration
		var firstErr error
		var wg sync.WaitGroup
		for i := 0; i < *concurrency; i++ {
			wg.Add(1)
			conn := clients[i%len(clients)]
			go func() {
				defer wg.Done()
				own := make([]time.Duration, 0, 4096)
				var callErr error
				for callErr == nil && time.Now().Before(end) {
					t := time.Now()
					var res []byte
					callErr = conn.Invoke(context.Background(), *method, &req, &res, grpc.ForceCodec(rawCodec{}))
					own = append(own, time.Since(t))
				}
				mu.Lock()
				all = append(all, own...)
				if callErr != nil && firstErr == nil {
					firstErr = callErr
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		return all, firstErr
	}
	if _, err := run(*warmup); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	start := time.Now()
	lat, err := run(*duration)
	secs := time.Since(start).Seconds()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	ms := func(p float64) float64 {
		return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000
	}
	out, _ := json.Marshal(result{Calls: len(lat), Seconds: secs, P50Ms: ms(0.5), P99Ms: ms(0.99)})
	fmt.Println(string(out))
}
