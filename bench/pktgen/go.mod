module metal-kube.local/bench/pktgen

go 1.26.0
