import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fromKubeconfigFiles } from "../src/kube/kubeconfig.js";

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}
const workflow = parse(readFileSync(new URL("../examples/github-actions/ktf-plan.yml", import.meta.url), "utf8")) as { on: unknown; jobs: { plan: { steps: Step[] } } };
const steps = workflow.jobs.plan.steps;

describe("examples/github-actions/ktf-plan.yml", () => {
  it("writes a kubeconfig of the ServiceAccount token that ktf reads, the token in no command line", async () => {
    const step = steps.find((s) => s.name?.startsWith("Kubeconfig"));
    expect(step?.env).toMatchObject({ KTF_TOKEN: "${{ secrets.KTF_TOKEN }}" });
    expect(step?.run).not.toContain("secrets.");
    const dir = mkdtempSync(join(tmpdir(), "ktf-example-"));
    try {
      const env = { PATH: process.env.PATH ?? "", RUNNER_TEMP: dir, KUBECONFIG: join(dir, "kubeconfig"), KTF_SERVER: "https://k8s.example.com:6443", KTF_CA: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", KTF_TOKEN: "ci-token" };
      execFileSync("bash", ["-eo", "pipefail", "-c", step?.run ?? "false"], { env });
      const credentials = fromKubeconfigFiles([join(dir, "kubeconfig")], undefined, env);
      expect(credentials).toMatchObject({ server: "https://k8s.example.com:6443", namespace: "team-a" });
      expect(await credentials.authorization()).toBe("Bearer ci-token");
      expect(credentials.ca?.toString()).toContain("BEGIN CERTIFICATE");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs ktf plan with -detailed-exitcode, failing the job only when the plan fails", () => {
    const plan = steps.find((s) => s.name === "ktf plan")?.run ?? "";
    expect(plan).toMatch(/ktf plan -w network .*-detailed-exitcode/);
    for (const [code, fails] of [[0, false], [2, false], [1, true]] as const) {
      const script = plan.replace(/ktf plan [^\n]*/, `(exit ${code})`);
      const run = () => execFileSync("bash", ["-e", "-c", script]);
      if (fails) expect(run).toThrow();
      else expect(run).not.toThrow();
    }
  });
});
