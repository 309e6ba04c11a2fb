package grpcdriver

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gardener/machine-controller-manager/pkg/apis/machine/v1alpha1"
	"github.com/gardener/machine-controller-manager/pkg/util/provider/driver"
	"github.com/gardener/machine-controller-manager/pkg/util/provider/machinecodes/codes"
	"github.com/gardener/machine-controller-manager/pkg/util/provider/machinecodes/status"
	grpccodes "google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	"google.golang.org/grpc"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	pb "metal-kube.local/machine-driver/bridge/gen/metalstack/machinedriver/v1"
)

// fakeService records what it was sent and answers with the configured code.
type fakeService struct {
	pb.UnimplementedMachineDriverServer
	mu       sync.Mutex
	code     grpccodes.Code
	message  string
	create   *pb.CreateMachineRequest
	deadline time.Time
	hasDL    bool
}

func (f *fakeService) fail(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deadline, f.hasDL = ctx.Deadline()
	if f.code == grpccodes.OK {
		return nil
	}
	return grpcstatus.Error(f.code, f.message)
}

func (f *fakeService) CreateMachine(ctx context.Context, r *pb.CreateMachineRequest) (*pb.CreateMachineResponse, error) {
	f.mu.Lock()
	f.create = r
	f.mu.Unlock()
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &pb.CreateMachineResponse{ProviderId: "metal://p1/id-1", NodeName: r.GetMachine().GetName(), LastKnownState: "id-1"}, nil
}

func (f *fakeService) InitializeMachine(ctx context.Context, r *pb.InitializeMachineRequest) (*pb.InitializeMachineResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &pb.InitializeMachineResponse{ProviderId: r.GetMachine().GetProviderId(), NodeName: r.GetMachine().GetName()}, nil
}

func (f *fakeService) GetMachineStatus(ctx context.Context, r *pb.GetMachineStatusRequest) (*pb.GetMachineStatusResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &pb.GetMachineStatusResponse{ProviderId: "metal://p1/id-1", NodeName: "m1"}, nil
}

func (f *fakeService) DeleteMachine(ctx context.Context, r *pb.DeleteMachineRequest) (*pb.DeleteMachineResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &pb.DeleteMachineResponse{LastKnownState: "id-1"}, nil
}

func (f *fakeService) ListMachines(ctx context.Context, r *pb.ListMachinesRequest) (*pb.ListMachinesResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &pb.ListMachinesResponse{MachineList: map[string]string{"metal://p1/id-1": "m1"}}, nil
}

func (f *fakeService) GetVolumeIDs(ctx context.Context, r *pb.GetVolumeIDsRequest) (*pb.GetVolumeIDsResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	ids := []string{}
	for _, s := range r.GetPvSpecs() {
		if s.GetCsi() != nil {
			ids = append(ids, s.GetCsi().GetVolumeHandle())
		}
	}
	return &pb.GetVolumeIDsResponse{VolumeIds: ids}, nil
}

// start serves the fake on a unix socket, the way the sidecars talk in the MCM pod.
func start(t *testing.T, opts Options) (*fakeService, *Driver) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "driver.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	f := &fakeService{}
	pb.RegisterMachineDriverServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := Dial(DialOptions{Endpoint: "unix://" + sock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return f, New(conn, opts)
}

func request() *driver.CreateMachineRequest {
	arch := "amd64"
	return &driver.CreateMachineRequest{
		Machine: &v1alpha1.Machine{
			ObjectMeta: metav1.ObjectMeta{Name: "m1", Namespace: "shoot--p--c", Labels: map[string]string{"node": "m1"}},
		},
		MachineClass: &v1alpha1.MachineClass{
			ObjectMeta:   metav1.ObjectMeta{Name: "class-a"},
			ProviderSpec: runtime.RawExtension{Raw: []byte(`{"partition":"p1"}`)},
			Provider:     "metal",
			NodeTemplate: &v1alpha1.NodeTemplate{
				Capacity:     corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32")},
				InstanceType: "c1-xlarge-x86",
				Region:       "fra",
				Zone:         "p1",
				Architecture: &arch,
			},
		},
		Secret: &corev1.Secret{Data: map[string][]byte{
			"userData":     []byte("#ignition"),
			"metalAPIURL":  []byte("http://metal-api"),
			"metalAPIHMac": []byte("hmac-key"),
			"unrelated":    []byte("not sent"),
		}},
	}
}

func TestCreateMachineConvertsTheRequestAndResponse(t *testing.T) {
	f, d := start(t, Options{})
	res, err := d.CreateMachine(context.Background(), request())
	if err != nil {
		t.Fatal(err)
	}
	if res.ProviderID != "metal://p1/id-1" || res.NodeName != "m1" || res.LastKnownState != "id-1" {
		t.Fatalf("unexpected response %+v", res)
	}
	r := f.create
	if r.GetMachine().GetName() != "m1" || r.GetMachine().GetNamespace() != "shoot--p--c" || r.GetMachine().GetLabels()["node"] != "m1" {
		t.Fatalf("machine not converted: %v", r.GetMachine())
	}
	mc := r.GetMachineClass()
	if mc.GetProviderSpec() != `{"partition":"p1"}` || mc.GetName() != "class-a" || mc.GetProvider() != "metal" {
		t.Fatalf("class not converted: %v", mc)
	}
	nt := mc.GetNodeTemplate()
	if nt.GetCapacity()["cpu"] != "32" || nt.GetInstanceType() != "c1-xlarge-x86" || nt.GetArchitecture() != "amd64" || nt.GetZone() != "p1" {
		t.Fatalf("node template not converted: %v", nt)
	}
	s := r.GetSecret()
	if string(s.GetUserData()) != "#ignition" || s.GetMetalApiUrl() != "http://metal-api" || s.GetMetalApiHmac() != "hmac-key" || s.GetMetalApiKey() != "" {
		t.Fatalf("secret not converted: url=%q", s.GetMetalApiUrl())
	}
}

func TestEveryCodeMapsOneToOneIncludingUninitialized(t *testing.T) {
	f, d := start(t, Options{})
	for c := uint32(1); c <= 17; c++ {
		f.mu.Lock()
		f.code, f.message = grpccodes.Code(c), "boom ] unbalanced ["
		f.mu.Unlock()
		_, err := d.DeleteMachine(context.Background(), &driver.DeleteMachineRequest{Machine: request().Machine})
		st, ok := status.FromError(err)
		if !ok {
			t.Fatalf("code %d: not an MCM status error: %v", c, err)
		}
		if uint32(st.Code()) != c {
			t.Fatalf("grpc code %d became MCM code %s", c, st.Code())
		}
		if st.Message() != "boom ) unbalanced (" {
			t.Fatalf("message lost: %q", st.Message())
		}
	}
}

func TestUninitializedStatusCarriesProviderIDAndNodeName(t *testing.T) {
	f, d := start(t, Options{})
	f.code = grpccodes.Code(17)
	f.message = "machine m1 (id-9) is in a provisioning crash loop; providerID=metal://p1/id-9 nodeName=m1"
	res, err := d.GetMachineStatus(context.Background(), &driver.GetMachineStatusRequest{Machine: request().Machine})
	st, _ := status.FromError(err)
	if st.Code() != codes.Uninitialized {
		t.Fatalf("want Uninitialized, got %v", err)
	}
	if res == nil || res.ProviderID != "metal://p1/id-9" || res.NodeName != "m1" {
		t.Fatalf("response with Uninitialized: %+v", res)
	}
}

func TestDeadlinesArePassedAndAddedWhenMissing(t *testing.T) {
	f, d := start(t, Options{CallTimeout: 7 * time.Second, InitializeTimeout: 90 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := d.ListMachines(ctx, &driver.ListMachinesRequest{MachineClass: request().MachineClass}); err != nil {
		t.Fatal(err)
	}
	if left := time.Until(f.deadline); !f.hasDL || left > 3*time.Second || left < 2*time.Second {
		t.Fatalf("caller's 3s deadline not passed on: %v left", left)
	}
	if _, err := d.GetVolumeIDs(context.Background(), &driver.GetVolumeIDsRequest{}); err != nil {
		t.Fatal(err)
	}
	if left := time.Until(f.deadline); !f.hasDL || left > 7*time.Second || left < 6*time.Second {
		t.Fatalf("default call timeout not applied: %v left", left)
	}
	if _, err := d.InitializeMachine(context.Background(), &driver.InitializeMachineRequest{Machine: request().Machine}); err != nil {
		t.Fatal(err)
	}
	if left := time.Until(f.deadline); left > 90*time.Second || left < 89*time.Second {
		t.Fatalf("initialize timeout not applied: %v left", left)
	}
}

func TestServiceDownIsUnavailable(t *testing.T) {
	conn, err := Dial(DialOptions{Endpoint: "unix://" + filepath.Join(t.TempDir(), "nobody.sock")})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = New(conn, Options{CallTimeout: 2 * time.Second}).CreateMachine(context.Background(), request())
	st, _ := status.FromError(err)
	if st.Code() != codes.Unavailable {
		t.Fatalf("want Unavailable (MCM retries in seconds), got %v", err)
	}
}

func TestListAndVolumes(t *testing.T) {
	_, d := start(t, Options{})
	l, err := d.ListMachines(context.Background(), &driver.ListMachinesRequest{MachineClass: request().MachineClass})
	if err != nil || l.MachineList["metal://p1/id-1"] != "m1" {
		t.Fatalf("list: %v %v", l, err)
	}
	v, err := d.GetVolumeIDs(context.Background(), &driver.GetVolumeIDsRequest{PVSpecs: []*corev1.PersistentVolumeSpec{
		{PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "d", VolumeHandle: "h1"}}},
		{PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
	}})
	if err != nil || len(v.VolumeIDs) != 1 || v.VolumeIDs[0] != "h1" {
		t.Fatalf("volumes: %v %v", v, err)
	}
}

func TestDialRejectsHalfTLSConfig(t *testing.T) {
	if _, err := Dial(DialOptions{Endpoint: "127.0.0.1:1", CertFile: "c.pem"}); err == nil {
		t.Fatal("a client certificate without a CA must be refused")
	}
	if _, err := Dial(DialOptions{Endpoint: ""}); err == nil {
		t.Fatal("an empty endpoint must be refused")
	}
}
