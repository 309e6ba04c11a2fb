// Package grpcdriver implements MCM's driver.Driver by calling the metalstack.machinedriver.v1
// MachineDriver gRPC service.
package grpcdriver

import (
	"context"
	"regexp"
	"time"

	"github.com/gardener/machine-controller-manager/pkg/util/provider/driver"
	"github.com/gardener/machine-controller-manager/pkg/util/provider/machinecodes/codes"
	"github.com/gardener/machine-controller-manager/pkg/util/provider/machinecodes/status"
	"google.golang.org/grpc"

	pb "metal-kube.local/machine-driver/bridge/gen/metalstack/machinedriver/v1"
)

// Default deadlines of calls MCM makes without one (MCM passes contexts without deadlines).
const (
	DefaultCallTimeout       = 60 * time.Second
	DefaultInitializeTimeout = 5 * time.Minute
)

// Options tune the driver.
type Options struct {
	// CallTimeout bounds a call whose context has no deadline; 0 means DefaultCallTimeout.
	CallTimeout time.Duration
	// InitializeTimeout bounds InitializeMachine, which follows provisioning for a while; 0 means
	// DefaultInitializeTimeout. The service answers before this deadline passes.
	InitializeTimeout time.Duration
}

// Driver is MCM's driver.Driver over gRPC.
type Driver struct {
	client pb.MachineDriverClient
	opts   Options
}

var _ driver.Driver = (*Driver)(nil)

// New returns a Driver calling the service on conn.
func New(conn grpc.ClientConnInterface, opts Options) *Driver {
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.InitializeTimeout <= 0 {
		opts.InitializeTimeout = DefaultInitializeTimeout
	}
	return &Driver{client: pb.NewMachineDriverClient(conn), opts: opts}
}

// withDeadline keeps the caller's deadline (gRPC sends it on as grpc-timeout) and adds one when the
// caller set none, so a hung service never blocks an MCM worker forever.
func withDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

func (d *Driver) CreateMachine(ctx context.Context, req *driver.CreateMachineRequest) (*driver.CreateMachineResponse, error) {
	ctx, cancel := withDeadline(ctx, d.opts.CallTimeout)
	defer cancel()
	res, err := d.client.CreateMachine(ctx, &pb.CreateMachineRequest{
		Machine:      toMachine(req.Machine),
		MachineClass: toMachineClass(req.MachineClass),
		Secret:       toSecret(req.Secret),
	})
	if err != nil {
		return nil, toMachineError(err)
	}
	return &driver.CreateMachineResponse{
		ProviderID:     res.GetProviderId(),
		NodeName:       res.GetNodeName(),
		LastKnownState: res.GetLastKnownState(),
	}, nil
}

func (d *Driver) InitializeMachine(ctx context.Context, req *driver.InitializeMachineRequest) (*driver.InitializeMachineResponse, error) {
	ctx, cancel := withDeadline(ctx, d.opts.InitializeTimeout)
	defer cancel()
	res, err := d.client.InitializeMachine(ctx, &pb.InitializeMachineRequest{
		Machine:      toMachine(req.Machine),
		MachineClass: toMachineClass(req.MachineClass),
		Secret:       toSecret(req.Secret),
	})
	if err != nil {
		return nil, toMachineError(err)
	}
	return &driver.InitializeMachineResponse{ProviderID: res.GetProviderId(), NodeName: res.GetNodeName()}, nil
}

func (d *Driver) DeleteMachine(ctx context.Context, req *driver.DeleteMachineRequest) (*driver.DeleteMachineResponse, error) {
	ctx, cancel := withDeadline(ctx, d.opts.CallTimeout)
	defer cancel()
	res, err := d.client.DeleteMachine(ctx, &pb.DeleteMachineRequest{
		Machine:      toMachine(req.Machine),
		MachineClass: toMachineClass(req.MachineClass),
		Secret:       toSecret(req.Secret),
	})
	if err != nil {
		return nil, toMachineError(err)
	}
	return &driver.DeleteMachineResponse{LastKnownState: res.GetLastKnownState()}, nil
}

// The service names the machine in every UNINITIALIZED message, since a gRPC error carries no response.
var (
	providerIDInMessage = regexp.MustCompile(`providerID=(\S+)`)
	nodeNameInMessage   = regexp.MustCompile(`nodeName=(\S+)`)
)

func (d *Driver) GetMachineStatus(ctx context.Context, req *driver.GetMachineStatusRequest) (*driver.GetMachineStatusResponse, error) {
	ctx, cancel := withDeadline(ctx, d.opts.CallTimeout)
	defer cancel()
	res, err := d.client.GetMachineStatus(ctx, &pb.GetMachineStatusRequest{
		Machine:      toMachine(req.Machine),
		MachineClass: toMachineClass(req.MachineClass),
		Secret:       toSecret(req.Secret),
	})
	if err != nil {
		merr := toMachineError(err)
		st, _ := status.FromError(merr)
		if st.Code() != codes.Uninitialized {
			return nil, merr
		}
		// MCM reads providerID and nodeName from the response that comes with Uninitialized.
		out := &driver.GetMachineStatusResponse{}
		if m := providerIDInMessage.FindStringSubmatch(st.Message()); m != nil {
			out.ProviderID = m[1]
		} else if req.Machine != nil {
			out.ProviderID = req.Machine.Spec.ProviderID
		}
		if m := nodeNameInMessage.FindStringSubmatch(st.Message()); m != nil {
			out.NodeName = m[1]
		} else if req.Machine != nil {
			out.NodeName = req.Machine.Name
		}
		return out, merr
	}
	return &driver.GetMachineStatusResponse{ProviderID: res.GetProviderId(), NodeName: res.GetNodeName()}, nil
}

func (d *Driver) ListMachines(ctx context.Context, req *driver.ListMachinesRequest) (*driver.ListMachinesResponse, error) {
	ctx, cancel := withDeadline(ctx, d.opts.CallTimeout)
	defer cancel()
	res, err := d.client.ListMachines(ctx, &pb.ListMachinesRequest{
		MachineClass: toMachineClass(req.MachineClass),
		Secret:       toSecret(req.Secret),
	})
	if err != nil {
		return nil, toMachineError(err)
	}
	list := res.GetMachineList()
	if list == nil {
		list = map[string]string{}
	}
	return &driver.ListMachinesResponse{MachineList: list}, nil
}

func (d *Driver) GetVolumeIDs(ctx context.Context, req *driver.GetVolumeIDsRequest) (*driver.GetVolumeIDsResponse, error) {
	ctx, cancel := withDeadline(ctx, d.opts.CallTimeout)
	defer cancel()
	res, err := d.client.GetVolumeIDs(ctx, &pb.GetVolumeIDsRequest{PvSpecs: toPVSpecs(req.PVSpecs)})
	if err != nil {
		return nil, toMachineError(err)
	}
	return &driver.GetVolumeIDsResponse{VolumeIDs: res.GetVolumeIds()}, nil
}
