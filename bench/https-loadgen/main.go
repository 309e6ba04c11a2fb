// https-loadgen posts one request body over and over to an HTTPS URL from N concurrent callers on
// keep-alive connections for a while and prints what it measured as JSON. The webhook benchmark uses it
// as the apiserver stand-in because a Go client spends far less CPU per request than a Node one, and
// client and server share the host's cores. Only the standard library: it builds in seconds.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"time"
)

type result struct {
	Calls   int     `json:"calls"`
	Seconds float64 `json:"seconds"`
	P50Ms   float64 `json:"p50Ms"`
	P99Ms   float64 `json:"p99Ms"`
	// Answers whose body did not contain -expect.
	Unexpected int `json:"unexpected"`
}

func main() {
	url := flag.String("url", "", "https URL to POST to")
	caFile := flag.String("ca", "", "PEM file of the CA that signed the server's certificate")
	data := flag.String("data", "", "file holding the request body")
	expect := flag.String("expect", "", "text every answer must contain")
	concurrency := flag.Int("c", 8, "concurrent callers, one keep-alive connection each")
	duration := flag.Duration("d", 5*time.Second, "measured duration")
	warmup := flag.Duration("warmup", time.Second, "unmeasured requests first")
	flag.Parse()
	debug.SetGCPercent(400)
	if *url == "" || *caFile == "" || *data == "" {
		fmt.Fprintln(os.Stderr, "https-loadgen: -url, -ca and -data are required")
		os.Exit(2)
	}
	body, err := os.ReadFile(*data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "https-loadgen:", err)
		os.Exit(2)
	}
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "https-loadgen:", err)
		os.Exit(2)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fmt.Fprintln(os.Stderr, "https-loadgen: no certificate in", *caFile)
		os.Exit(2)
	}
	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: roots},
			MaxIdleConns:        *concurrency,
			MaxIdleConnsPerHost: *concurrency,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	want := []byte(*expect)
	run := func(d time.Duration) ([]time.Duration, int, error) {
		end := time.Now().Add(d)
		var mu sync.Mutex
		var all []time.Duration
		unexpected := 0
		var firstErr error
		var wg sync.WaitGroup
		for i := 0; i < *concurrency; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				own := make([]time.Duration, 0, 4096)
				bad := 0
				var callErr error
				for callErr == nil && time.Now().Before(end) {
					t := time.Now()
					res, err := client.Post(*url, "application/json", bytes.NewReader(body))
					if err != nil {
						callErr = err
						break
					}
					answer, err := io.ReadAll(res.Body)
					res.Body.Close()
					own = append(own, time.Since(t))
					if err != nil {
						callErr = err
					} else if res.StatusCode != 200 {
						callErr = fmt.Errorf("status %d: %s", res.StatusCode, answer)
					} else if len(want) > 0 && !bytes.Contains(answer, want) {
						bad++
					}
				}
				mu.Lock()
				all = append(all, own...)
				unexpected += bad
				if callErr != nil && firstErr == nil {
					firstErr = callErr
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		return all, unexpected, firstErr
	}
	if _, _, err := run(*warmup); err != nil {
		fmt.Fprintln(os.Stderr, "https-loadgen:", err)
		os.Exit(1)
	}
	start := time.Now()
	lat, unexpected, err := run(*duration)
	secs := time.Since(start).Seconds()
	if err != nil {
		fmt.Fprintln(os.Stderr, "https-loadgen:", err)
		os.Exit(1)
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	ms := func(p float64) float64 {
		return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000
	}
	out, _ := json.Marshal(result{Calls: len(lat), Seconds: secs, P50Ms: ms(0.5), P99Ms: ms(0.99), Unexpected: unexpected})
	fmt.Println(string(out))
}
