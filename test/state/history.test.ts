import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl, waitFor } from "../harness/cluster.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";

const config = (names: string[]) => names.map((n) => `resource "terraform_data" "${n}" {\n  input = "${n}"\n}\n`).join("");

describe("state history", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  beforeAll(async () => {
    w = await workspaceFixture("history", { "main.tf": config(["one"]) });
  });
  afterAll(async () => {
    await w.cleanup();
  });

  it("keeps every write as a version, and a rollback makes the first current again", async () => {
    const { writeFile } = await import("node:fs/promises");
    expect((await w.ktf(["apply", "-auto-approve"])).code).toBe(0);
    await writeFile(`${w.dir}/main.tf`, config(["one", "two"]));
    expect((await w.ktf(["apply", "-auto-approve"])).code).toBe(0);
    await writeFile(`${w.dir}/main.tf`, config(["one", "two", "three"]));
    const third = await w.ktf(["apply", "-auto-approve"]);
    expect(third.code).toBe(0);

    // The operator records a version as soon as it sees the write.
    const versions = await waitFor(async () => {
      const r = await w.ktf(["state", "versions"]);
      return /^3 \(current\)/m.test(r.stdout) ? r : undefined;
    }, 30_000, "version 3 in the history");
    const rows = versions.stdout.trim().split("\n").slice(1);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(["3", "2", "1"]);
    expect(rows[0]).toContain(runNameIn(third));
    expect(versions.stdout).toMatch(/SERIAL\s+AGE\s+WRITTEN\s+SIZE\s+RUN\s+USER\s+LINEAGE/);

    const rollback = await w.ktf(["state", "rollback", "1"]);
    expect(rollback.code, rollback.stderr).toBe(0);
    const list = await w.ktf(["state", "list"]);
    expect(list.stdout.trim().split("\n")).toEqual(["terraform_data.one"]);
    // The rollback is a write of its own: the newest version, past serial 3.
    await waitFor(async () => {
      const newest = (await w.ktf(["state", "versions"])).stdout.trim().split("\n")[1] ?? "";
      return /^\d+ \(current\)/.test(newest) && Number(newest.split(" ")[0]) > 3;
    }, 30_000, "the rollback as the newest version");

    const missing = await w.ktf(["state", "rollback", "42"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/has no state version with serial 42; ktf state versions lists them/);
  });

  it("keeps a state the engine could not save, and ktf state recover pushes it back", async () => {
    // The API server refuses new state versions in this namespace (as a quota or a policy would).
    const policy = `history-refuse-${w.ns}`;
    await kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicy",
            metadata: { name: policy },
            spec: {
              failurePolicy: "Fail",
              matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["secrets"] }] },
              validations: [{ expression: "!has(object.metadata.labels) || !('ktf.dev/component' in object.metadata.labels) || object.metadata.labels['ktf.dev/component'] != 'state-version'", message: "state versions are refused here for the test" }],
            },
          },
          {
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "ValidatingAdmissionPolicyBinding",
            metadata: { name: policy },
            spec: { policyName: policy, validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": w.ns } } } },
          },
        ],
      }),
    });
    const { writeFile } = await import("node:fs/promises");
    await writeFile(`${w.dir}/main.tf`, config(["one", "four"]));
    try {
      // The policy takes a moment to be enforced.
      let failed = await w.ktf(["apply", "-auto-approve"]);
      for (let i = 0; i < 10 && failed.code === 0; i++) {
        await writeFile(`${w.dir}/main.tf`, config(["one", "four", `again${i}`]));
        failed = await w.ktf(["apply", "-auto-approve"]);
      }
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/the engine could not save the state \(serial \d+\); ktf kept it in Secrets tfstate-main-errored-/);
      const run = runNameIn(failed);
      expect(failed.stderr).toContain(`ktf state recover ${run}`);
      await kubectl(["delete", "validatingadmissionpolicybinding", policy]);
      await kubectl(["delete", "validatingadmissionpolicy", policy]);

      const recover = await w.ktf(["state", "recover", run]);
      expect(recover.code, recover.stderr).toBe(0);
      const list = await w.ktf(["state", "list"]);
      expect(list.stdout).toContain("terraform_data.four");
      // The resources the failed apply created are known again: a plan wants nothing new.
      const plan = await w.ktf(["plan", "-detailed-exitcode"]);
      expect(plan.code, plan.stdout).toBe(0);
    } finally {
      await kubectl(["delete", "validatingadmissionpolicybinding", policy, "--ignore-not-found"]);
      await kubectl(["delete", "validatingadmissionpolicy", policy, "--ignore-not-found"]);
    }
  });
});
