// The test bed's warm start (binaries cached) with every upstream CRD and NATS (target <= 15 s); lives with e2e.
import "../e2e/bench/warm-start.js";
