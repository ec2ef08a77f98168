import { describe, expect, it } from "vitest";
import { repositoryName, touchedWorkspaces, type LinkedWorkspace } from "./touched-workspaces.js";

function ws(name: string, workingDir: string, vcs: Partial<LinkedWorkspace["vcs"]> = {}): LinkedWorkspace {
  return { namespace: "team-a", name, workingDir, vcs: { repository: "acme/infra", branch: "main", ...vcs } };
}

const pull = (files: (string | [string, string])[], base: Partial<{ baseRepository: string; baseBranch: string }> = {}) => ({
  baseRepository: "acme/infra",
  baseBranch: "main",
  ...base,
  files: files.map((f) => (typeof f === "string" ? { filename: f } : { filename: f[0], previousFilename: f[1] })),
});

describe("touchedWorkspaces", () => {
  const network = ws("network", "envs/network");
  const networkDotted = ws("network-dotted", "./envs/network/");
  const root = ws("root", "");
  const dot = ws("dot", ".");
  const withModules = ws("db", "envs/db", { paths: ["modules/**", "!modules/**/*.md"] });
  const docsOnly = ws("docs", "docs/never-touched", { paths: ["*.tfvars", "shared/{a,b}/*.tf"] });
  const release = ws("network-release", "envs/network", { branch: "release" });
  const otherRepo = ws("other", "envs/network", { repository: "acme/other" });
  const all = [network, networkDotted, root, dot, withModules, docsOnly, release, otherRepo];

  it.each([
    ["a file in the working directory", pull(["envs/network/main.tf"]), ["network", "network-dotted", "root", "dot"]],
    ["a file deep inside it", pull(["envs/network/sub/x.json"]), ["network", "network-dotted", "root", "dot"]],
    ["a directory whose name only starts like it", pull(["envs/network-old/main.tf"]), ["root", "dot"]],
    ["a module matched by a glob", pull(["modules/vpc/main.tf"]), ["root", "dot", "db"]],
    ["a file the glob's ! pattern leaves out", pull(["modules/vpc/README.md"]), ["root", "dot"]],
    ["a dot file under a ** glob", pull(["modules/vpc/.terraform.lock.hcl"]), ["root", "dot", "db"]],
    ["a * glob stays in its directory", pull(["nested/x.tfvars"]), ["root", "dot"]],
    ["a * glob at the root", pull(["prod.tfvars"]), ["root", "dot", "docs"]],
    ["a brace glob", pull(["shared/b/x.tf"]), ["root", "dot", "docs"]],
    ["a file renamed out of the directory", pull([["elsewhere/main.tf", "envs/network/main.tf"]]), ["network", "network-dotted", "root", "dot"]],
    ["a file renamed into it", pull([["envs/network/main.tf", "elsewhere/main.tf"]]), ["network", "network-dotted", "root", "dot"]],
    ["no files", pull([]), []],
    ["a PR into another branch", pull(["envs/network/main.tf"], { baseBranch: "release" }), ["network-release"]],
    ["a PR into another repository", pull(["envs/network/main.tf"], { baseRepository: "acme/other" }), ["other"]],
    ["a repository named in another case", pull(["envs/network/main.tf"], { baseRepository: "ACME/Infra" }), ["network", "network-dotted", "root", "dot"]],
  ])("%s", (_name, changes, expected) => {
    expect(touchedWorkspaces(all, changes).map((w) => w.name)).toEqual(expected);
  });

  it("keeps the caller's own workspace objects", () => {
    const mine = { ...network, uid: "1234" };
    expect(touchedWorkspaces([mine], pull(["envs/network/main.tf"]))[0]).toBe(mine);
  });
});

describe("repositoryName", () => {
  it.each([
    ["acme/infra", "acme/infra"],
    ["Acme/Infra", "acme/infra"],
    ["https://github.com/acme/infra", "acme/infra"],
    ["https://github.example.com/acme/infra.git", "acme/infra"],
    ["git@github.com:acme/infra.git", "acme/infra"],
  ])("%s is %s", (given, expected) => {
    expect(repositoryName(given)).toBe(expected);
  });
});
