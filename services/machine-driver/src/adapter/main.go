// machine-controller-metal is MCM's machine controller for metal-stack machines: MCM's own provider
// app (app.Run) with a driver.Driver that calls the machine-driver gRPC service, normally a sidecar on
// a shared unix socket. MCM's flags are unchanged; the connection to the service is set by env.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/gardener/machine-controller-manager/pkg/util/provider/app"
	"github.com/gardener/machine-controller-manager/pkg/util/provider/app/options"
	"github.com/spf13/pflag"
	"k8s.io/component-base/cli/flag"
	"k8s.io/component-base/logs"

	"metal-kube.local/machine-driver/bridge/internal/grpcdriver"
)

// DefaultEndpoint is the socket the driver sidecar listens on in the MCM pod (deploy/machine-driver).
const DefaultEndpoint = "unix:///run/metal-kube/machine-driver.sock"

func env(name, dflt string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return dflt
}

func durationEnv(name string, dflt time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return dflt, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: want a positive duration like 60s, got %q", name, v)
	}
	return d, nil
}

func run() error {
	s := options.NewMCServer()
	s.AddFlags(pflag.CommandLine)
	flag.InitFlags()
	logs.InitLogs()
	defer logs.FlushLogs()

	callTimeout, err := durationEnv("MACHINE_DRIVER_CALL_TIMEOUT", grpcdriver.DefaultCallTimeout)
	if err != nil {
		return err
	}
	initTimeout, err := durationEnv("MACHINE_DRIVER_INITIALIZE_TIMEOUT", grpcdriver.DefaultInitializeTimeout)
	if err != nil {
		return err
	}
	conn, err := grpcdriver.Dial(grpcdriver.DialOptions{
		Endpoint:   env("MACHINE_DRIVER_ENDPOINT", DefaultEndpoint),
		CAFile:     os.Getenv("MACHINE_DRIVER_TLS_CA_FILE"),
		CertFile:   os.Getenv("MACHINE_DRIVER_TLS_CERT_FILE"),
		KeyFile:    os.Getenv("MACHINE_DRIVER_TLS_KEY_FILE"),
		ServerName: os.Getenv("MACHINE_DRIVER_TLS_SERVER_NAME"),
	})
	if err != nil {
		return fmt.Errorf("MACHINE_DRIVER_*: %w", err)
	}
	defer conn.Close()
	d := grpcdriver.New(conn, grpcdriver.Options{CallTimeout: callTimeout, InitializeTimeout: initTimeout})
	return app.Run(s, d)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		os.Exit(1)
	}
}
