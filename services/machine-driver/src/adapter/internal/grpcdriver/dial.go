package grpcdriver

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// DialOptions say where the service listens and how to reach it.
type DialOptions struct {
	// Endpoint is `unix:///path/to.sock` or `host:port`.
	Endpoint string
	// CAFile enables TLS: the PEM bundle the service's certificate must chain to.
	CAFile string
	// CertFile and KeyFile are the bridge's client certificate for mutual TLS (both or neither).
	CertFile string
	KeyFile  string
	// ServerName overrides the name checked in the service's certificate.
	ServerName string
}

// Dial returns a lazily connecting client connection. Calls fail fast (UNAVAILABLE) while the service
// is down, which MCM retries after a few seconds; they never queue up behind a dead sidecar.
func Dial(o DialOptions) (*grpc.ClientConn, error) {
	if o.Endpoint == "" {
		return nil, fmt.Errorf("endpoint: empty")
	}
	creds, err := transportCredentials(o)
	if err != nil {
		return nil, err
	}
	target := o.Endpoint
	if !strings.HasPrefix(target, "unix:") && !strings.Contains(target, "://") {
		// host:port: skip DNS resolver indirection for the usual loopback or pod-local address.
		target = "passthrough:///" + target
	}
	return grpc.NewClient(target, grpc.WithTransportCredentials(creds))
}

func transportCredentials(o DialOptions) (credentials.TransportCredentials, error) {
	if o.CAFile == "" {
		if o.CertFile != "" || o.KeyFile != "" {
			return nil, fmt.Errorf("client certificate given without a CA file: set the CA to enable TLS")
		}
		return insecure.NewCredentials(), nil
	}
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate in it", o.CAFile)
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: o.ServerName, MinVersion: tls.VersionTLS12}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, fmt.Errorf("client certificate and key must be given together")
	}
	if o.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return credentials.NewTLS(cfg), nil
}
