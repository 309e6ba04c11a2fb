package grpcdriver

import (
	"github.com/gardener/machine-controller-manager/pkg/apis/machine/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	pb "metal-kube.local/machine-driver/bridge/gen/metalstack/machinedriver/v1"
)

// Keys of the MachineClass secret data, as the Gardener metal extension writes them.
const (
	SecretUserData     = "userData"
	SecretMetalAPIURL  = "metalAPIURL"
	SecretMetalAPIKey  = "metalAPIKey"
	SecretMetalAPIHMAC = "metalAPIHMac"
)

func toMachine(m *v1alpha1.Machine) *pb.Machine {
	if m == nil {
		return nil
	}
	return &pb.Machine{
		Name:       m.Name,
		Namespace:  m.Namespace,
		ProviderId: m.Spec.ProviderID,
		Labels:     m.Labels,
	}
}

func toMachineClass(c *v1alpha1.MachineClass) *pb.MachineClass {
	if c == nil {
		return nil
	}
	out := &pb.MachineClass{
		Name:         c.Name,
		ProviderSpec: string(c.ProviderSpec.Raw),
		Provider:     c.Provider,
	}
	if t := c.NodeTemplate; t != nil {
		nt := &pb.NodeTemplate{
			InstanceType: t.InstanceType,
			Region:       t.Region,
			Zone:         t.Zone,
		}
		if t.Architecture != nil {
			nt.Architecture = *t.Architecture
		}
		if len(t.Capacity) > 0 {
			nt.Capacity = make(map[string]string, len(t.Capacity))
			for name, q := range t.Capacity {
				nt.Capacity[string(name)] = q.String()
			}
		}
		out.NodeTemplate = nt
	}
	return out
}

// toSecret copies only the keys the driver reads; the values live in this request and nowhere else.
func toSecret(s *corev1.Secret) *pb.Secret {
	if s == nil {
		return nil
	}
	return &pb.Secret{
		UserData:     s.Data[SecretUserData],
		MetalApiUrl:  string(s.Data[SecretMetalAPIURL]),
		MetalApiKey:  string(s.Data[SecretMetalAPIKey]),
		MetalApiHmac: string(s.Data[SecretMetalAPIHMAC]),
	}
}

func toPVSpecs(specs []*corev1.PersistentVolumeSpec) []*pb.PersistentVolumeSpec {
	out := make([]*pb.PersistentVolumeSpec, 0, len(specs))
	for _, s := range specs {
		if s == nil {
			continue
		}
		spec := &pb.PersistentVolumeSpec{}
		if s.CSI != nil {
			spec.Csi = &pb.CsiVolumeSource{Driver: s.CSI.Driver, VolumeHandle: s.CSI.VolumeHandle}
		}
		out = append(out, spec)
	}
	return out
}
