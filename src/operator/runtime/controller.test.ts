import { describe, expect, it, vi } from "vitest";
import { ApiError, StaleCacheError } from "../../errors.js";
import type { KubeObject } from "../../kube/client.js";
import type { Informer } from "../../kube/informer.js";
import type { Logger } from "../../log.js";
import type { ObjectKey, ReconcileResult } from "../controllers/types.js";
import { Controller, ownKey } from "./controller.js";
import { OperatorMetrics } from "./metrics.js";

/** An informer that holds one object and never changes. */
const oneObject = { on: () => oneObject, list: () => [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "team" } }] } as unknown as Informer<KubeObject>;

describe("Controller", () => {
  it.each([
    ["a conflict (409)", new ApiError(409, "Conflict", "the object has been modified")],
    ["a stale cache", new StaleCacheError("the cached copy is behind")],
  ])("reconciles again after %s, without a warning", async (_, error) => {
    const log = { warn: vi.fn(), debug: vi.fn(), info: vi.fn() } as unknown as Logger;
    const metrics = new OperatorMetrics();
    const reconcile = vi.fn<(key: ObjectKey) => Promise<ReconcileResult>>().mockRejectedValueOnce(error).mockResolvedValue({});
    const controller = new Controller({ name: "test", reconcile, watches: [{ informer: oneObject, map: ownKey }], workers: 1, log, metrics });

    controller.start();
    await vi.waitFor(() => expect(reconcile).toHaveBeenCalledTimes(2), { timeout: 2000 });
    await controller.stop();

    expect(log.warn).not.toHaveBeenCalled();
    const results = Object.fromEntries((await metrics.reconciles.get()).values.map((v) => [String(v.labels.result), v.value]));
    expect(results).toEqual({ stale: 1, success: 1 });
  });
});
