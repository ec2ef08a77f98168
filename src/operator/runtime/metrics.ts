import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The operator's metrics, in a registry of its own (never prom-client's global one). */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({ name: "ktf_reconcile_total", help: "Reconciles by controller and result", labelNames: ["controller", "result"], registers: [this.registry] });
  readonly duration = new Histogram({
    name: "ktf_reconcile_duration_seconds",
    help: "Reconcile duration",
    labelNames: ["controller"],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: "ktf_workqueue_depth", help: "Keys waiting in a controller's queue", labelNames: ["controller"], registers: [this.registry] });
  readonly leader = new Gauge({ name: "ktf_leader", help: "1 while this replica holds at least one shard", registers: [this.registry] });
  readonly shardsHeld = new Gauge({ name: "ktf_shards_held", help: "Shards this replica works on", registers: [this.registry] });
  readonly runsFinished = new Counter({ name: "ktf_runs_finished_total", help: "Runs that ended, by phase", labelNames: ["phase"], registers: [this.registry] });
  readonly backups = new Counter({ name: "ktf_state_backups_total", help: "State versions copied to the backup store, by result", labelNames: ["result"], registers: [this.registry] });
  readonly apiRequests = new Counter({ name: "ktf_api_requests_total", help: "Requests to the Kubernetes API, by verb and resource (a watch counts once, when it starts)", labelNames: ["verb", "resource"], registers: [this.registry] });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
