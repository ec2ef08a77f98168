import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchema, type Run } from "../../src/api/run.js";
import { workspaceSchema } from "../../src/api/workspace.js";
import { connectToCluster } from "../../src/kube/connect.js";
import { RESOURCES } from "../../src/kube/resources.js";
import { FakeGitHub, GitRepository, webhookExample, type FakeCheckRun } from "../harness/fake-github.js";
import { startReceiver } from "../harness/github-receiver.js";
import { harness, kubectl, testNamespace, waitFor } from "../harness/cluster.js";

const REPO = "acme/infra";
const INSTALLATION = 4242;
const CONFIG = (value: string) => `resource "terraform_data" "net" {\n  input = "${value}"\n}\noutput "net" {\n  value = terraform_data.net.output\n}\n`;

/**
 * GitHub pull requests plan and apply workspaces: GitHub is the fake (the real REST wire
 * format, the App's JWT and installation tokens checked), its deliveries are GitHub's own
 * example payloads, the repository a real git repository, the receiver `ktf github serve` as
 * its own ServiceAccount, the cluster and the engine real.
 */
describe("pull requests on GitHub", () => {
  const kube = connectToCluster({ kubeconfig: harness().kubeconfig }).client;
  let github: FakeGitHub;
  let git: GitRepository;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let ns: Awaited<ReturnType<typeof testNamespace>>;

  const origin = { "repository.full_name": REPO, installation: { id: INSTALLATION, node_id: "x" } };
  const pullPayload = async (action: "opened" | "synchronize", number: number, headRef: string, sender: string, headRepository = REPO) =>
    withFields(webhookExample("pull_request", action), {
      ...origin,
      number,
      "pull_request.number": number,
      "pull_request.head.sha": await git.resolve(headRef),
      "pull_request.head.ref": headRef,
      "pull_request.head.repo.full_name": headRepository,
      "pull_request.base.ref": "main",
      "pull_request.base.repo.full_name": REPO,
      "sender.login": sender,
    });
  const actionPayload = (check: FakeCheckRun, number: number, sender: string) =>
    withFields(webhookExample("check_run", "requested_action"), {
      ...origin,
      "check_run.id": check.id,
      "check_run.external_id": check.external_id,
      "check_run.head_sha": check.head_sha,
      "check_run.pull_requests": [{ number, head: { ref: "feature", sha: check.head_sha }, base: { ref: "main" } }],
      requested_action: { identifier: "apply" },
      "sender.login": sender,
    });
  // GitHub's issue_comment examples are on issues: one on a pull request has issue.pull_request.
  const commentPayload = (number: number, body: string, sender: string) =>
    withFields(webhookExample("issue_comment", "created"), {
      ...origin,
      "issue.number": number,
      "issue.pull_request": { url: `https://api.github.com/repos/${REPO}/pulls/${number}` },
      "comment.body": body,
      "comment.user.login": sender,
      "comment.user.type": "User",
      "sender.login": sender,
      "sender.type": "User",
    });
  /** The check run of that name and head commit once it is completed. */
  const completed = (name: string, sha: string) =>
    waitFor(() => github.checkRuns.find((c) => c.name === name && c.head_sha === sha && c.status === "completed"), 180_000, `check run ${name} on ${sha.slice(0, 7)} completed`).catch((err: unknown) => {
      throw new Error(`${String(err)}\nreceiver:\n${receiver.logs().slice(-4000)}`);
    });
  const comment = (pattern: RegExp) => waitFor(() => github.comments.find((c) => pattern.test(c.body)), 60_000, `a comment matching ${pattern}`);
  const runsOf = async (): Promise<Run[]> => (await kube.list(RESOURCES.Run, ns.name)).items.map((r) => runSchema.parse(r));
  const planCheck = () => `ktf plan: ${ns.name}/net`;

  beforeAll(async () => {
    ns = await testNamespace("github");
    git = await GitRepository.create();
    await git.commit("main", { "network/main.tf": CONFIG("v1"), "README.md": "infra\n" });
    github = await FakeGitHub.start();
    github.addRepository(REPO, git, INSTALLATION);
    await kube.create({
      apiVersion: "ktf.dev/v1alpha1",
      kind: "Workspace",
      metadata: { name: "net", namespace: ns.name },
      spec: { workingDir: "network", vcs: { repository: REPO, branch: "main" } },
    });
    await waitFor(async () => workspaceSchema.parse(await kube.get(RESOURCES.Workspace, ns.name, "net")).status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"), 60_000, "workspace net ready");
    // bob may apply net, alice may plan (create runs); carol nothing.
    await kubectl(["-n", ns.name, "create", "role", "applier", "--verb=apply", "--resource=workspaces.ktf.dev"]);
    await kubectl(["-n", ns.name, "create", "rolebinding", "bob-applies", "--role=applier", "--user=github:bob"]);
    await kubectl(["-n", ns.name, "create", "role", "planner", "--verb=create", "--resource=runs.ktf.dev"]);
    await kubectl(["-n", ns.name, "create", "rolebinding", "alice-plans", "--role=planner", "--user=github:alice"]);
    await kube.create({
      apiVersion: "ktf.dev/v1alpha1",
      kind: "Workspace",
      metadata: { name: "gated", namespace: ns.name },
      spec: { workingDir: "gated", vcs: { repository: REPO, applyRequirements: ["approved"] } },
    });
    receiver = await startReceiver(github);
  });
  afterAll(async () => {
    await receiver?.stop();
    await github?.close();
    await git?.remove();
    kube.close();
    await ns?.remove();
  });

  it("refuses a delivery with a wrong or no signature, and runs nothing", async () => {
    await git.commit("unsigned", { "network/main.tf": CONFIG("unsigned") }, { from: "main" });
    github.addPull({ repository: REPO, number: 1, headRef: "unsigned", baseRef: "main", author: "mallory", mergeable: true, mergeableState: "clean" });
    const payload = await pullPayload("opened", 1, "unsigned", "mallory");
    expect(await receiver.deliver("pull_request", payload, { signature: "sha256=" + "0".repeat(64) })).toBe(401);
    expect(await receiver.deliver("pull_request", payload, { signature: "" })).toBe(401);
    expect(await receiver.deliver("ping", { zen: "hi" })).toBe(202);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await runsOf()).some((r) => r.metadata.annotations?.["ktf.dev/github-pull"] === "1")).toBe(false);
    const sha = await git.resolve("unsigned");
    expect(github.checkRuns.some((c) => c.head_sha === sha)).toBe(false);
  });

  it("plans a PR as a check run, refuses Apply to one without the verb, refuses a stale plan, applies for one with it", async () => {
    await git.commit("feature", { "network/main.tf": CONFIG("v2") }, { from: "main" });
    github.addPull({ repository: REPO, number: 7, headRef: "feature", baseRef: "main", author: "alice", mergeable: true, mergeableState: "clean" });
    const first = await git.resolve("feature");
    const opened = await pullPayload("opened", 7, "feature", "alice");
    expect(await receiver.deliver("pull_request", opened, { delivery: "pr7-opened" })).toBe(202);
    const plan = await completed(planCheck(), first ?? "");
    // GitHub redelivers it: nothing runs twice.
    expect(await receiver.deliver("pull_request", opened, { delivery: "pr7-opened" })).toBe(200);
    expect(await receiver.deliver("pull_request", opened, { delivery: "pr7-opened-manual-redelivery" })).toBe(202);
    expect(plan).toMatchObject({ conclusion: "success", output: { title: "1 to add, 0 to change, 0 to destroy" } });
    expect(plan.output.text).toContain("terraform_data.net");
    expect(plan.actions.map((a) => a.identifier)).toEqual(["apply"]);
    expect(plan.history[0]?.body.status).toBe("queued");
    expect(plan.history.at(-1)?.body.status).toBe("completed");
    const planRun = (await runsOf()).find((r) => r.spec.command === "plan");
    expect(planRun?.metadata.annotations).toMatchObject({ "ktf.dev/github-repository": REPO, "ktf.dev/github-pull": "7", "ktf.dev/github-sha": first, "ktf.dev/on-behalf-of": "github:alice" });
    expect(planRun?.status?.onBehalfOf).toBe("github:alice");

    // carol presses Apply: RBAC says no, on the PR; nothing is applied.
    expect(await receiver.deliver("check_run", actionPayload(plan, 7, "carol"))).toBe(202);
    expect((await comment(/@carol/)).body).toMatch(/github:carol may not apply here: it needs the RBAC verb "apply" on workspaces.ktf.dev "net" in namespace/);
    expect((await runsOf()).some((r) => r.spec.command === "apply")).toBe(false);

    // A push plans the new head, and makes the old plan stale: bob's Apply on it is refused.
    const second = await git.commit("feature", { "network/main.tf": CONFIG("v3") });
    expect(await receiver.deliver("pull_request", await pullPayload("synchronize", 7, "feature", "alice"))).toBe(202);
    const fresh = await completed(planCheck(), second);
    expect(fresh.output.title).toBe("1 to add, 0 to change, 0 to destroy");
    expect(await receiver.deliver("check_run", actionPayload(plan, 7, "bob"))).toBe(202);
    expect((await comment(/@bob .*stale/)).body).toContain(`is now at ${second.slice(0, 7)}`);
    expect((await runsOf()).some((r) => r.spec.command === "apply")).toBe(false);
    // One plan run for each head commit, whatever was delivered how often.
    const plans = (await runsOf()).filter((r) => r.spec.command === "plan" && r.metadata.annotations?.["ktf.dev/github-pull"] === "7");
    expect(plans.map((r) => r.metadata.annotations?.["ktf.dev/github-sha"]).sort()).toEqual([first, second].sort());

    // bob applies the fresh plan: exactly it, on his behalf.
    expect(await receiver.deliver("check_run", actionPayload(fresh, 7, "bob"))).toBe(202);
    const applied = await completed(`ktf apply: ${ns.name}/net`, second);
    expect(applied).toMatchObject({ conclusion: "success", output: { title: "Applied" } });
    const apply = (await runsOf()).find((r) => r.spec.command === "apply");
    expect(apply?.spec.planRun).toBe(fresh.external_id.split("/")[1]);
    expect(apply?.status).toMatchObject({ phase: "Succeeded", onBehalfOf: "github:bob" });
    expect(workspaceSchema.parse(await kube.get(RESOURCES.Workspace, ns.name, "net")).status?.outputs).toEqual([expect.objectContaining({ name: "net", value: '"v3"' })]);
  });

  it("applies a workspace that requires approval only once the PR is approved by someone else", async () => {
    await git.commit("gate", { "gated/main.tf": CONFIG("gated") }, { from: "main" });
    github.addPull({ repository: REPO, number: 12, headRef: "gate", baseRef: "main", author: "alice", mergeable: true, mergeableState: "clean" });
    const sha = (await git.resolve("gate")) ?? "";
    expect(await receiver.deliver("pull_request", await pullPayload("opened", 12, "gate", "alice"))).toBe(202);
    const plan = await completed(`ktf plan: ${ns.name}/gated`, sha);
    expect(plan.conclusion).toBe("success");
    // The net workspace is not touched by this PR: only gated is planned.
    expect(github.checkRuns.some((c) => c.name === planCheck() && c.head_sha === sha)).toBe(false);
    expect(await receiver.deliver("check_run", actionPayload(plan, 12, "bob"))).toBe(202);
    expect((await comment(/@bob .*gated.* is not applied: the pull request must be approved/)).body).toBeTruthy();
    github.addReview(REPO, 12, { user: "alice", state: "APPROVED", commitId: sha });
    expect(await receiver.deliver("check_run", actionPayload(plan, 12, "bob"))).toBe(202);
    await waitFor(() => github.comments.filter((c) => /must be approved/.test(c.body)).length >= 2 || undefined, 60_000, "the author's own approval refused too");
    github.addReview(REPO, 12, { user: "dave", state: "APPROVED", commitId: sha });
    expect(await receiver.deliver("issue_comment", commentPayload(12, "ktf apply", "bob"))).toBe(202);
    expect(await completed(`ktf apply: ${ns.name}/gated`, sha)).toMatchObject({ conclusion: "success", output: { title: "Applied" } });
  });

  it("loses no delivery it acknowledged when it crashes, and does it after a restart", async () => {
    await git.commit("crash", { "network/main.tf": CONFIG("crash") }, { from: "main" });
    github.addPull({ repository: REPO, number: 11, headRef: "crash", baseRef: "main", author: "alice", mergeable: true, mergeableState: "clean" });
    const sha = (await git.resolve("crash")) ?? "";
    expect(await receiver.deliver("pull_request", await pullPayload("opened", 11, "crash", "alice"))).toBe(202);
    await receiver.kill();
    receiver = await startReceiver(github);
    const plan = await completed(planCheck(), sha);
    expect(plan.conclusion).toBe("success");
    expect(plan.output.title).toMatch(/^\d+ to add, \d+ to change, 0 to destroy$/);
    // Handled once: one plan run of that commit.
    expect((await runsOf()).filter((r) => r.metadata.annotations?.["ktf.dev/github-sha"] === sha)).toHaveLength(1);
  });

  it("does not plan a fork's PR until someone who may plan comments ktf plan", async () => {
    await git.commit("fork-change", { "network/main.tf": CONFIG("fork") }, { from: "main" });
    github.addPull({ repository: REPO, number: 9, headRef: "fork-change", baseRef: "main", headRepository: "mallory/infra", author: "mallory", mergeable: true, mergeableState: "clean" });
    const sha = (await git.resolve("fork-change")) ?? "";
    expect(await receiver.deliver("pull_request", await pullPayload("opened", 9, "fork-change", "mallory", "mallory/infra"))).toBe(202);
    const notice = await completed(planCheck(), sha);
    expect(notice).toMatchObject({ conclusion: "neutral", output: { title: "Not planned: the pull request comes from a fork" } });
    expect((await runsOf()).some((r) => r.metadata.annotations?.["ktf.dev/github-pull"] === "9")).toBe(false);

    // mallory asks herself: she may not plan there.
    expect(await receiver.deliver("issue_comment", commentPayload(9, "ktf plan", "mallory"))).toBe(202);
    expect((await comment(/@mallory ktf did not plan/)).body).toMatch(/github:mallory may not plan here/);
    // alice, who may, asks: it is planned.
    expect(await receiver.deliver("issue_comment", commentPayload(9, "ktf plan", "alice"))).toBe(202);
    await waitFor(() => github.checkRuns.find((c) => c.name === planCheck() && c.head_sha === sha && c.conclusion === "success"), 180_000, "the fork's plan");
    expect((await runsOf()).find((r) => r.metadata.annotations?.["ktf.dev/github-pull"] === "9")?.status?.onBehalfOf).toBe("github:alice");
  });
});

/** A copy of a real payload with the fields at these dotted paths set, and nothing else changed. */
function withFields(payload: object, fields: Record<string, unknown>): object {
  const copy = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
  for (const [path, value] of Object.entries(fields)) {
    const keys = path.split(".");
    let at = copy;
    for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
    at[keys.at(-1) ?? ""] = value;
  }
  return copy;
}
