package grpcdriver

import (
	"context"
	"errors"
	"strings"

	"github.com/gardener/machine-controller-manager/pkg/util/provider/machinecodes/codes"
	"github.com/gardener/machine-controller-manager/pkg/util/provider/machinecodes/status"
	grpcstatus "google.golang.org/grpc/status"
)

// maxMachineCode is MCM's highest code, Uninitialized (17): one past gRPC's last (Unauthenticated, 16).
const maxMachineCode = uint32(codes.Uninitialized)

// MCM decodes a machine error from its text by square brackets ("code = [..] message = [..]"); an
// unbalanced bracket in a message would garble the code MCM reads.
var bracketFree = strings.NewReplacer("[", "(", "]", ")")

// toMachineError turns an error of a gRPC call into the MCM status error MCM acts on. gRPC codes 0-16
// and MCM codes 0-16 are the same numbers, and the driver sends Uninitialized as grpc-status 17, so the
// mapping is the identity; a number MCM does not know becomes Unknown (MCM retries it shortly).
func toMachineError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := grpcstatus.FromError(err)
	if !ok {
		// Not from the gRPC stack (it converts context errors itself); keep the caller's intent.
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return status.WrapError(codes.DeadlineExceeded, err.Error(), err)
		case errors.Is(err, context.Canceled):
			return status.WrapError(codes.Canceled, err.Error(), err)
		}
		return status.WrapError(codes.Unknown, err.Error(), err)
	}
	msg := bracketFree.Replace(st.Message())
	c := uint32(st.Code())
	if c > maxMachineCode {
		return status.WrapError(codes.Unknown, msg, err)
	}
	return status.WrapError(codes.Code(c), msg, err)
}
