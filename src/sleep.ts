import { setTimeout as delay } from "node:timers/promises";

/** Resolves after `ms`, or at once when the signal aborts; never rejects. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * Asks `ready` every `intervalMs` until it says yes (true) or `timeoutMs` has passed
 * (false). What `ready` throws ends the wait.
 */
export async function pollUntil(timeoutMs: number, intervalMs: number, ready: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}
