import { describe, expect, it } from "vitest";
import { webhookExample } from "../../test/harness/fake-github.js";
import { parseCommand, parseEvent } from "./events.js";

/** An issue_comment.created example, on a pull request (none of GitHub's examples is). */
function prComment(body: string) {
  const payload = webhookExample("issue_comment", "created", 3);
  payload.comment.body = body;
  payload.issue.pull_request = {
    url: "https://api.github.com/repos/Codertocat/Hello-World/pulls/1",
    html_url: "https://github.com/Codertocat/Hello-World/pull/1",
    diff_url: "https://github.com/Codertocat/Hello-World/pull/1.diff",
    patch_url: "https://github.com/Codertocat/Hello-World/pull/1.patch",
  };
  return payload;
}

describe("parseEvent", () => {
  it("reads a pull request opened in the same repository as a plan request", () => {
    const payload = webhookExample("pull_request", "opened", 1);
    expect(parseEvent("pull_request", payload)).toEqual({
      kind: "pull-request",
      action: "opened",
      repository: "Codertocat/Hello-World",
      installationId: payload.installation?.id,
      sender: "Codertocat",
      number: 2,
      headSha: payload.pull_request.head.sha,
      headRef: "changes",
      baseRef: "master",
      headRepository: "Codertocat/Hello-World",
      isFork: false,
    });
  });

  it("reads synchronize and reopened too, and sees a fork and a deleted fork", () => {
    const sync = webhookExample("pull_request", "synchronize");
    sync.pull_request.head.repo!.full_name = "someone/Hello-World";
    expect(parseEvent("pull_request", sync)).toMatchObject({ kind: "pull-request", action: "synchronize", isFork: true, headRepository: "someone/Hello-World" });

    const reopened = webhookExample("pull_request", "reopened");
    (reopened.pull_request.head as { repo: unknown }).repo = null;
    expect(parseEvent("pull_request", reopened)).toMatchObject({ kind: "pull-request", action: "reopened", isFork: true, headRepository: undefined });

    const sameButCase = webhookExample("pull_request", "synchronize");
    sameButCase.pull_request.head.repo!.full_name = "codertocat/hello-world";
    expect(parseEvent("pull_request", sameButCase)).toMatchObject({ isFork: false });
  });

  it("ignores other pull request actions and deliveries not sent to an App", () => {
    expect(parseEvent("pull_request", webhookExample("pull_request", "labeled"))).toEqual({ kind: "ignored", reason: "ktf does not act on pull_request.labeled" });
    expect(parseEvent("pull_request", webhookExample("pull_request", "opened", 0))).toMatchObject({ kind: "ignored", reason: expect.stringContaining("has no installation") as string });
    expect(parseEvent("push", webhookExample("push"))).toEqual({ kind: "ignored", reason: "ktf does not act on push events" });
    expect(parseEvent("ping", { zen: "Keep it logically awesome." })).toMatchObject({ kind: "ignored" });
  });

  it("names what is missing when a payload is not as expected", () => {
    const payload = webhookExample("pull_request", "opened", 1) as unknown as { pull_request: { head: { sha?: string } } };
    delete payload.pull_request.head.sha;
    expect(parseEvent("pull_request", payload)).toEqual({ kind: "ignored", reason: expect.stringContaining("pull_request.head.sha") as string });
  });

  it("reads check suites requested and rerequested with their pull requests", () => {
    const requested = webhookExample("check_suite", "requested");
    expect(parseEvent("check_suite", requested)).toEqual({
      kind: "check-suite",
      action: "requested",
      repository: requested.repository.full_name,
      installationId: requested.installation?.id,
      sender: requested.sender.login,
      checkSuiteId: requested.check_suite.id,
      headSha: requested.check_suite.head_sha,
      headBranch: "master",
      pullRequests: [],
    });
    const rerequested = webhookExample("check_suite", "rerequested");
    expect(parseEvent("check_suite", rerequested)).toMatchObject({
      kind: "check-suite",
      action: "rerequested",
      pullRequests: [{ number: 2, headSha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", headRef: "changes", baseRef: "master" }],
    });
    expect(parseEvent("check_suite", webhookExample("check_suite", "completed"))).toMatchObject({ kind: "ignored" });
  });

  it("reads a pressed check run button with its identifier and the check run's ids", () => {
    const payload = webhookExample("check_run", "requested_action");
    payload.requested_action = { identifier: "apply" };
    payload.check_run.external_id = "team-a/plan-x7k2";
    expect(parseEvent("check_run", payload)).toEqual({
      kind: "check-run-action",
      identifier: "apply",
      repository: "electron/electron",
      installationId: payload.installation?.id,
      sender: "codebytere",
      checkRunId: payload.check_run.id,
      externalId: "team-a/plan-x7k2",
      headSha: payload.check_run.head_sha,
      pullRequests: [{ number: 26764, headSha: "5bd5f196a46b8222fb7484f05faba41a73cf34bd", headRef: "miniak/event-process-id", baseRef: "master" }],
    });
  });

  it("reads a rerequested check run; an empty external_id is none", () => {
    const payload = webhookExample("check_run", "rerequested");
    expect(parseEvent("check_run", payload)).toMatchObject({ kind: "check-run-rerequested", checkRunId: payload.check_run.id, externalId: undefined, headSha: payload.check_run.head_sha });
    expect(parseEvent("check_run", webhookExample("check_run", "created"))).toMatchObject({ kind: "ignored" });
  });

  it("reads a ktf command commented on a pull request", () => {
    const payload = prComment("ktf apply -w team-a/network");
    expect(parseEvent("issue_comment", payload)).toEqual({
      kind: "comment-command",
      command: "apply",
      workspace: { namespace: "team-a", name: "network" },
      repository: "Codertocat/Hello-World",
      installationId: payload.installation?.id,
      sender: "Codertocat",
      number: payload.issue.number,
      commentId: payload.comment.id,
      authorAssociation: "OWNER",
    });
  });

  it("answers an unknown command with a message to reply, and ignores what is not for ktf", () => {
    expect(parseEvent("issue_comment", prComment("ktf frobnicate"))).toMatchObject({ kind: "comment-error", reply: expect.stringContaining("unknown command `ktf frobnicate`") as string });
    expect(parseEvent("issue_comment", prComment("Looks good to me"))).toEqual({ kind: "ignored", reason: "the comment is no ktf command" });
    const onIssue = webhookExample("issue_comment", "created", 3);
    onIssue.comment.body = "ktf plan";
    expect(parseEvent("issue_comment", onIssue)).toEqual({ kind: "ignored", reason: "the comment is on an issue, not a pull request" });
    const byBot = prComment("ktf plan");
    byBot.sender.type = "Bot";
    expect(parseEvent("issue_comment", byBot)).toMatchObject({ kind: "ignored", reason: expect.stringContaining("bot") as string });
    expect(parseEvent("issue_comment", webhookExample("issue_comment", "edited"))).toMatchObject({ kind: "ignored" });
  });
});

describe("parseCommand", () => {
  it.each([
    ["ktf plan", { command: "plan", workspace: undefined }],
    ["ktf apply", { command: "apply", workspace: undefined }],
    ["  ktf plan  ", { command: "plan", workspace: undefined }],
    ["ktf plan\n\nbecause the provider changed", { command: "plan", workspace: undefined }],
    ["ktf plan -w team-a/network", { command: "plan", workspace: { namespace: "team-a", name: "network" } }],
    ["ktf apply --workspace team-a/network", { command: "apply", workspace: { namespace: "team-a", name: "network" } }],
    ["ktf apply --workspace=team-a/db.primary", { command: "apply", workspace: { namespace: "team-a", name: "db.primary" } }],
    ["ktf\tplan\t-w\tns/ws", { command: "plan", workspace: { namespace: "ns", name: "ws" } }],
  ])("%j is a command", (body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it.each([["Looks good"], ["ktfplan"], ["please ktf plan"], ["KTF plan"], [""], ["> ktf plan"]])("%j is not for ktf", (body) => {
    expect(parseCommand(body)).toBeUndefined();
  });

  it.each([
    ["ktf", "`ktf` needs a command"],
    ["ktf frobnicate", "unknown command `ktf frobnicate`: ktf understands `ktf plan` and `ktf apply`"],
    ["ktf plan -x", "unknown option `-x` of `ktf plan`"],
    ["ktf plan now", "unexpected `now` after `ktf plan`"],
    ["ktf plan -w", "`-w` needs a workspace, as in `ktf plan -w namespace/name`"],
    ["ktf apply --workspace=", "`--workspace=` needs a workspace"],
    ["ktf plan -w network", "`network` is not a workspace: write it as namespace/name"],
    ["ktf plan -w Team/Network", "`Team/Network` is not a workspace"],
    ["ktf plan -w a/b/c", "`a/b/c` is not a workspace"],
    ["ktf plan -w a/b -w c/d", "name one workspace per command"],
  ])("%j is an error", (body, message) => {
    const result = parseCommand(body);
    expect(result && "error" in result ? result.error : undefined).toContain(message);
  });
});
