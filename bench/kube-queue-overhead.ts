// The adapter kit work queue overhead per item (target <= 100 us); the benchmark lives with libs/kube.
import "../libs/kube/bench/queue-overhead.js";
