import { describe, expect, it } from "vitest";
import { WorkQueue, type Timers } from "./work-queue.js";

/** Timers driven by the test: advance(ms) fires what is due. */
function fakeTimers() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      pending.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return {
    timers,
    now: () => now,
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now) {
          pending.delete(id);
          t.fn();
        }
      }
    },
    pending: () => pending.size,
  };
}

describe("WorkQueue", () => {
  it("holds a key once however often it is added", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("a");
    q.add("b");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
  });

  it("never hands out a key being processed, and processes it again when added meanwhile", async () => {
    const q = new WorkQueue();
    q.add("a");
    const key = await q.get();
    q.add("a");
    expect(q.length).toBe(0);
    q.done(key ?? "");
    expect(q.length).toBe(1);
    expect(await q.get()).toBe("a");
  });

  it("wakes a waiting worker", async () => {
    const q = new WorkQueue();
    const next = q.get();
    q.add("x");
    expect(await next).toBe("x");
  });

  it("backs off exponentially per key and forgets on success", () => {
    const t = fakeTimers();
    const q = new WorkQueue(t.timers, { baseMs: 100, maxMs: 1000 }, t.now);
    expect([0, 1, 2, 3, 4, 5].map((n) => q.backoffFor(n))).toEqual([100, 200, 400, 800, 1000, 1000]);
    q.addRateLimited("a");
    expect(q.length).toBe(0);
    t.advance(99);
    expect(q.length).toBe(0);
    t.advance(1);
    expect(q.length).toBe(1);
    q.addRateLimited("b");
    q.addRateLimited("b");
    expect(q.retries("b")).toBe(2);
    q.forget("b");
    expect(q.retries("b")).toBe(0);
  });

  it("keeps the earlier of two delays", () => {
    const t = fakeTimers();
    const q = new WorkQueue(t.timers, undefined, t.now);
    q.addAfter("a", 500);
    q.addAfter("a", 100);
    q.addAfter("a", 900);
    t.advance(100);
    expect(q.length).toBe(1);
    expect(t.pending()).toBe(0);
  });

  it("shuts down: waiters get undefined, timers are cleared, adds are ignored", async () => {
    const t = fakeTimers();
    const q = new WorkQueue(t.timers, undefined, t.now);
    const waiting = q.get();
    q.addAfter("a", 100);
    q.shutDown();
    expect(await waiting).toBeUndefined();
    expect(t.pending()).toBe(0);
    q.add("b");
    expect(await q.get()).toBeUndefined();
  });
});
