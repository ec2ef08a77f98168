import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import { kubectl } from "../harness/cluster.js";
import { ktfInTerminal } from "../harness/terminal.js";
import { mintUser } from "../harness/users.js";
import { workspaceFixture } from "../harness/workspace.js";

describe("ktf sh", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("sh", { "main.tf": 'output "x" {\n  value = 1\n}\n' });
    await w.client.patch(RESOURCES.Workspace, w.ns, "main", { spec: { env: [{ name: "FOO", value: "from-the-workspace" }] } });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("runs one command in a run pod, with the configuration, the engine and the workspace's environment, and exits with its code", async () => {
    const uname = await w.ktf(["sh", "--", "uname"]);
    expect(uname.code, uname.stderr).toBe(0);
    expect(uname.stdout).toBe("Linux\n");
    expect((await w.ktf(["sh", "--", "sh", "-c", "exit 3"])).code).toBe(3);
    const env = await w.ktf(["sh", "--", "sh", "-c", 'echo "$FOO"; ls main.tf; tofu version | head -n1']);
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toMatch(/^from-the-workspace\nmain.tf\nOpenTofu v\d+\.\d+\.\d+\n$/);
  });

  it("opens an interactive shell in a real terminal", async () => {
    const session = ktfInTerminal(w.dir, ["sh"]);
    try {
      session.type("uname; exit 7\r");
      await session.shows(/Linux/);
      expect(await session.exited).toBe(7);
    } finally {
      session.kill();
    }
  });

  it("gives the shell the user's terminal size, and follows it when it changes", async () => {
    const session = ktfInTerminal(w.dir, ["sh"], { size: { columns: 91, rows: 33 } });
    try {
      session.type("stty size\r");
      await session.shows(/^33 91\r?$/m);
      await session.resize(120, 40);
      // The new size travels CLI -> attach -> runner -> pty: ask until it has arrived.
      const resized = async (tries: number): Promise<void> => {
        session.type("stty size\r");
        await session.shows(/^40 120\r?$/m, 2000).catch((err: unknown) => {
          if (tries > 1) return resized(tries - 1);
          throw err;
        });
      };
      await resized(15);
      session.type("exit\r");
      expect(await session.exited).toBe(0);
    } finally {
      session.kill();
    }
  });

  it("queues like a run that changes state, and is privileged: a user without the verb may not", async () => {
    const three = await Promise.all([0, 1, 2].map(() => w.ktf(["sh", "--", "sleep", "3"])));
    expect(three.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(three.filter((r) => /waiting for run/.test(r.stderr)).length).toBeGreaterThanOrEqual(2);

    const ursula = await mintUser("ursula-sh");
    await kubectl(["-n", w.ns, "create", "rolebinding", "ursula-ktf", "--clusterrole=ktf-user", "--user=ursula-sh"]);
    const refused = await w.ktf(["sh", "--", "uname"], { kubeconfig: ursula });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/may not run sh in workspace main/);
  });
});
