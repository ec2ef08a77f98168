import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchema } from "../../src/api/run.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { waitFor } from "../harness/cluster.js";
import { ktfInTerminal } from "../harness/terminal.js";
import { runNameIn, SLOW, workspaceFixture } from "../harness/workspace.js";

/** Ctrl-C in the terminal where `ktf apply` streams its run (then an answer to ktf's question), or SIGTERM. */
describe("stopping ktf during a run", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("interrupt", { "main.tf": SLOW });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  async function interruptedApply(answer: string) {
    const session = ktfInTerminal(w.dir, ["apply", "-auto-approve", "-var", `tag=${answer}`, "-var", "seconds=12"]);
    try {
      await session.shows(/terraform_data\.slow \(local-exec\): Executing/);
      session.type("\x03");
      await session.shows(/Cancel run (\S+)\? \[y\]es cancels it, \[n\]o detaches/);
      session.type(`${answer}\r`);
      const code = await session.exited;
      const name = /Cancel run (\S+)\?/.exec(session.output())?.[1] ?? "";
      return { code, output: session.output(), name };
    } finally {
      session.kill();
    }
  }

  it("detaches on 'n': ktf exits 0 and the run goes on to the end", async () => {
    const { code, output, name } = await interruptedApply("n");
    expect(output).toContain(`ktf: detached; the run goes on. Follow it with: ktf runs logs ${name} -f`);
    expect(code).toBe(0);
    const run = runSchema.parse(await w.client.get(RESOURCES.Run, w.ns, name));
    expect(run.spec.cancel).toBe(false);
    const done = await waitFor(async () => {
      const r = runSchema.parse(await w.client.get(RESOURCES.Run, w.ns, name));
      return r.status?.phase === "Succeeded" || r.status?.phase === "Failed" ? r : undefined;
    }, 120_000, "the detached run to finish");
    expect(done.status?.phase).toBe("Succeeded");
  });

  it("cancels on 'y': the engine stops, the run is Canceled and the lock is free", async () => {
    const { code, output, name } = await interruptedApply("y");
    expect(output).toContain(`ktf: canceling run ${name}`);
    expect(output).toMatch(/Interrupt received|Gracefully shutting down/);
    expect(code).not.toBe(0);
    const run = runSchema.parse(await w.client.get(RESOURCES.Run, w.ns, name));
    expect(run.spec.cancel).toBe(true);
    expect(run.status?.phase).toBe("Canceled");
    const plan = await w.ktf(["plan", "-lock-timeout=0s", "-var", "tag=y"]);
    expect(plan.code, plan.stderr).toBe(0);
  });

  it("cancels on SIGTERM, as a CI system sends it when a job is canceled", async () => {
    let signalled = false;
    const r = await w.ktf(["apply", "-auto-approve", "-var", "tag=term", "-var", "seconds=12"], {
      onStdout: (chunk, child) => {
        if (signalled || !chunk.includes("(local-exec): Executing")) return;
        signalled = true;
        child.kill("SIGTERM");
      },
    });
    expect(signalled).toBe(true);
    expect(r.stderr).toContain("ktf: canceling run");
    expect(r.stdout + r.stderr).toMatch(/Interrupt received|Gracefully shutting down/);
    expect(r.code).not.toBe(0);
    const run = runSchema.parse(await w.client.get(RESOURCES.Run, w.ns, runNameIn(r)));
    expect(run.status?.phase).toBe("Canceled");
  });
});
