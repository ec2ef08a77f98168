import { describe, expect, it } from "vitest";
import { workspaceSchema, DEFAULT_API_AUDIENCES } from "../api/workspace.js";
import { identityRefusal, tokenAudiences } from "./run-identity.js";

const workspace = (spec: object) => workspaceSchema.parse({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "net", namespace: "team" }, spec });
const account = (labels?: Record<string, string>) => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "deployer", namespace: "team", ...(labels ? { labels } : {}) } });
const jwt = (claims: object) => ["e30", Buffer.from(JSON.stringify(claims)).toString("base64url"), "sig"].join(".");

describe("identityRefusal", () => {
  it("lets a workspace with its own ServiceAccount and a cloud's audience run", () => {
    expect(identityRefusal(workspace({ identity: { tokens: [{ audience: "sts.amazonaws.com", path: "aws" }] } }), undefined, DEFAULT_API_AUDIENCES)).toBeUndefined();
  });

  it("refuses a token for an audience the API server accepts, the cluster's own included", () => {
    const ws = workspace({ identity: { tokens: [{ audience: "sts.amazonaws.com", path: "aws" }, { audience: "https://container.googleapis.com/v1/projects/p/clusters/c", path: "k" }] } });
    expect(identityRefusal(ws, undefined, [...DEFAULT_API_AUDIENCES, "https://container.googleapis.com/v1/projects/p/clusters/c"])).toMatch(
      /^spec.identity.tokens\[1\].audience "https:\/\/container.googleapis.com\/v1\/projects\/p\/clusters\/c" is an audience of the Kubernetes API server/,
    );
  });

  it("refuses a named ServiceAccount that has not opted in, or does not exist", () => {
    const ws = workspace({ serviceAccountName: "deployer" });
    expect(identityRefusal(ws, account(), [])).toMatch(/ServiceAccount deployer has not opted in to running ktf runs: label it ktf.dev\/runner-account=true/);
    expect(identityRefusal(ws, account({ "ktf.dev/runner-account": "yes" }), [])).toMatch(/has not opted in/);
    expect(identityRefusal(ws, undefined, [])).toMatch(/ServiceAccount deployer does not exist in namespace team/);
    expect(identityRefusal(ws, account({ "ktf.dev/runner-account": "true" }), [])).toBeUndefined();
  });

  it("is refused by the schema already for the well-known API audiences", () => {
    const parsed = workspaceSchema.safeParse({ apiVersion: "ktf.dev/v1alpha1", kind: "Workspace", metadata: { name: "n" }, spec: { identity: { tokens: [{ audience: "https://kubernetes.default.svc", path: "k" }] } } });
    expect(parsed.success).toBe(false);
  });
});

describe("tokenAudiences", () => {
  it("reads aud as a list or a string, and nothing from garbage", () => {
    expect(tokenAudiences(jwt({ aud: ["https://kubernetes.default.svc.cluster.local", "k3s"] }))).toEqual(["https://kubernetes.default.svc.cluster.local", "k3s"]);
    expect(tokenAudiences(jwt({ aud: "api" }))).toEqual(["api"]);
    expect(tokenAudiences("not a token")).toEqual([]);
  });
});
