// 5,000 objects reconciled through the adapter kit on the real test bed (target <= 30 s); lives with libs/kube.
import "../libs/kube/bench/reconcile-5000.js";
