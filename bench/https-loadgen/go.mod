module metal-kube.local/bench/https-loadgen

go 1.26.0
