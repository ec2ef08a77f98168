import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectToCluster, loadCredentials } from "./connect.js";
import { impersonationHeaders } from "./impersonation.js";
import { fromKubeconfigFiles } from "./kubeconfig.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ktf-kubeconfig-"));
  await writeFile(join(dir, "ca.crt"), "CA");
  await writeFile(
    join(dir, "a.yaml"),
    `apiVersion: v1
kind: Config
current-context: a
clusters:
- name: one
  cluster: {server: "https://one:6443", certificate-authority: ca.crt}
users:
- name: alice
  user: {token: alice-token}
- name: plugin
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: ${join(dir, "plugin.sh")}, env: [{name: WHO, value: bob}]}
contexts:
- name: a
  context: {cluster: one, user: alice, namespace: team-a}
- name: p
  context: {cluster: one, user: plugin}
`,
  );
  await writeFile(
    join(dir, "b.yaml"),
    `current-context: b
clusters:
- name: one
  cluster: {server: "https://shadowed:6443"}
contexts:
- name: b
  context: {cluster: one, user: alice}
`,
  );
  await writeFile(join(dir, "plugin.sh"), '#!/bin/sh\necho "{\\"status\\":{\\"token\\":\\"$WHO-token\\"}}"\n');
  await chmod(join(dir, "plugin.sh"), 0o755);
  // Tells in its token what it was given, so that a test can see KUBERNETES_EXEC_INFO.
  await writeFile(
    join(dir, "plugin.mjs"),
    `const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
const status = process.env.MODE === "cert"
  ? { clientCertificateData: "CERT PEM", clientKeyData: "KEY PEM" }
  : { token: [process.env.WHO, info.kind, info.apiVersion, info.spec.interactive, info.spec.cluster?.server, info.spec.cluster?.config?.audience].join("|") };
console.log(JSON.stringify({ apiVersion: info.apiVersion, kind: "ExecCredential", status }));
`,
  );
  await writeFile(join(dir, "token.txt"), "file-token\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("fromKubeconfigFiles", () => {
  it("reads the current context, with files relative to the kubeconfig", async () => {
    const c = fromKubeconfigFiles([join(dir, "a.yaml")]);
    expect(c).toMatchObject({ server: "https://one:6443", contextName: "a", namespace: "team-a" });
    expect(c.ca?.toString()).toBe("CA");
    expect(await c.authorization()).toBe("Bearer alice-token");
  });

  it("merges files as kubectl does: the first definition and current-context win", () => {
    const c = fromKubeconfigFiles([join(dir, "a.yaml"), join(dir, "b.yaml")]);
    expect(c.contextName).toBe("a");
    expect(fromKubeconfigFiles([join(dir, "a.yaml"), join(dir, "b.yaml")], "b").server).toBe("https://one:6443");
  });

  it("runs exec credential plugins", async () => {
    expect(await fromKubeconfigFiles([join(dir, "a.yaml")], "p").authorization()).toBe("Bearer bob-token");
  });

  it("names the contexts it has when asked for another", () => {
    expect(() => fromKubeconfigFiles([join(dir, "a.yaml")], "nope")).toThrow("context nope is not in the kubeconfig (it has: a, p)");
    expect(() => fromKubeconfigFiles([join(dir, "missing.yaml")])).toThrow(/missing.yaml does not exist/);
  });
});

/** One cluster, one user, one context: the shape of each case below. */
function kubeconfig(cluster: object, user: object): string {
  return JSON.stringify({
    "current-context": "c",
    clusters: [{ name: "k", cluster: { server: "https://api.corp.example:6443", ...cluster } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
  });
}

const plugin = (env: Record<string, string>, more: object = {}) => ({
  exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: process.execPath, args: [join(dir, "plugin.mjs")], env: Object.entries(env).map(([name, value]) => ({ name, value })), ...more },
});

interface Seen {
  authorization?: string;
  cert?: string;
  key?: string;
  proxy?: string;
  headers?: Record<string, string | string[]>;
}

/** What a request would carry, from the credentials a kubeconfig gives. */
async function seen(config: string, env: NodeJS.ProcessEnv): Promise<Seen> {
  const path = join(dir, `case-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, config);
  const c = fromKubeconfigFiles([path], undefined, env);
  const identity = await c.tlsIdentity();
  return { authorization: await c.authorization(), cert: identity.cert?.toString(), key: identity.key?.toString(), proxy: c.proxy?.href, headers: impersonationHeaders(c.impersonate) };
}

describe("a kubeconfig's user and cluster", () => {
  const cases: { name: string; config: () => string; env?: NodeJS.ProcessEnv; want: Seen | RegExp }[] = [
    { name: "a token", config: () => kubeconfig({}, { token: "t" }), want: { authorization: "Bearer t", cert: undefined, proxy: undefined, headers: {} } },
    { name: "a token file, relative to the kubeconfig", config: () => kubeconfig({}, { tokenFile: "token.txt" }), want: { authorization: "Bearer file-token" } },
    {
      name: "an exec plugin's token, with KUBERNETES_EXEC_INFO (no cluster unless asked)",
      config: () => kubeconfig({}, plugin({ WHO: "bob" })),
      want: { authorization: "Bearer bob|ExecCredential|client.authentication.k8s.io/v1beta1|false||", cert: undefined },
    },
    {
      name: "an exec plugin given the cluster (provideClusterInfo)",
      config: () =>
        kubeconfig({ extensions: [{ name: "client.authentication.k8s.io/exec", extension: { audience: "aud" } }] }, plugin({ WHO: "bob" }, { provideClusterInfo: true })),
      want: { authorization: "Bearer bob|ExecCredential|client.authentication.k8s.io/v1beta1|false|https://api.corp.example:6443|aud" },
    },
    {
      name: "an exec plugin's client certificate, over the kubeconfig's",
      config: () => kubeconfig({}, { ...plugin({ MODE: "cert" }), "client-certificate-data": Buffer.from("STATIC").toString("base64") }),
      want: { authorization: undefined, cert: "CERT PEM", key: "KEY PEM" },
    },
    { name: "a client certificate", config: () => kubeconfig({}, { "client-certificate-data": Buffer.from("C").toString("base64"), "client-key-data": Buffer.from("K").toString("base64") }), want: { cert: "C", key: "K" } },
    {
      name: "proxy-url, which wins over HTTPS_PROXY and NO_PROXY",
      config: () => kubeconfig({ "proxy-url": "http://me:secret@proxy.corp:3128" }, { token: "t" }),
      env: { HTTPS_PROXY: "http://other:8080", NO_PROXY: "*" },
      want: { proxy: "http://me:secret@proxy.corp:3128/" },
    },
    { name: "HTTPS_PROXY, without a scheme", config: () => kubeconfig({}, {}), env: { HTTPS_PROXY: "proxy.corp:8080" }, want: { proxy: "http://proxy.corp:8080/" } },
    { name: "https_proxy", config: () => kubeconfig({}, {}), env: { https_proxy: "http://lower:8080" }, want: { proxy: "http://lower:8080/" } },
    { name: "HTTP_PROXY only for an http server", config: () => kubeconfig({ server: "http://api.corp.example:8080" }, {}), env: { HTTPS_PROXY: "http://s:1", HTTP_PROXY: "http://p:2" }, want: { proxy: "http://p:2/" } },
    { name: "NO_PROXY by domain suffix", config: () => kubeconfig({}, {}), env: { HTTPS_PROXY: "http://p:1", NO_PROXY: "localhost,corp.example" }, want: { proxy: undefined } },
    { name: "NO_PROXY=*", config: () => kubeconfig({}, {}), env: { HTTPS_PROXY: "http://p:1", no_proxy: "*" }, want: { proxy: undefined } },
    { name: "NO_PROXY for another port", config: () => kubeconfig({}, {}), env: { HTTPS_PROXY: "http://p:1", NO_PROXY: "api.corp.example:443" }, want: { proxy: "http://p:1/" } },
    { name: "NO_PROXY by CIDR", config: () => kubeconfig({ server: "https://10.1.2.3:6443" }, {}), env: { HTTPS_PROXY: "http://p:1", NO_PROXY: "10.0.0.0/8" }, want: { proxy: undefined } },
    { name: "no proxy from the environment for loopback", config: () => kubeconfig({ server: "https://127.0.0.1:6443" }, {}), env: { HTTPS_PROXY: "http://p:1" }, want: { proxy: undefined } },
    { name: "a SOCKS proxy", config: () => kubeconfig({ "proxy-url": "socks5://proxy.corp:1080" }, {}), want: /proxy-url socks5:\/\/proxy.corp:1080 is a SOCKS proxy, which ktf does not support: use an HTTP proxy/ },
    { name: "an https:// proxy", config: () => kubeconfig({}, {}), env: { HTTPS_PROXY: "https://p:1" }, want: /HTTPS_PROXY https:\/\/p:1: ktf supports only http:\/\/ proxies/ },
    {
      name: "an auth-provider (OIDC)",
      config: () => kubeconfig({}, { "auth-provider": { name: "oidc", config: { "idp-issuer-url": "https://idp" } } }),
      want: /user u authenticates with the auth-provider oidc, which ktf does not support: switch the user to an exec credential plugin, e.g. kubelogin for OIDC and Azure, gke-gcloud-auth-plugin for GKE$/,
    },
    { name: "an auth-provider beside a token", config: () => kubeconfig({}, { token: "t", "auth-provider": { name: "gcp" } }), want: /user u authenticates with the auth-provider gcp/ },
    { name: "an auth-provider of unknown shape", config: () => kubeconfig({}, { "auth-provider": "azure" }), want: /user u authenticates with the auth-provider \(unnamed\)/ },
    {
      name: "impersonation",
      config: () => kubeconfig({}, { token: "t", as: "jane", "as-uid": "42", "as-groups": ["dev", "ops"], "as-user-extra": { "example.com/team name": ["a", "b"] } }),
      want: {
        authorization: "Bearer t",
        headers: { "Impersonate-User": "jane", "Impersonate-Uid": "42", "Impersonate-Group": ["dev", "ops"], "Impersonate-Extra-example.com%2Fteam%20name": ["a", "b"] },
      },
    },
    { name: "impersonated groups without a user", config: () => kubeconfig({}, { "as-groups": ["dev"] }), want: /impersonation sets groups, a uid or extra fields but no user/ },
  ];

  it.each(cases)("$name", async ({ config, env, want }) => {
    const result = seen(config(), env ?? {});
    if (want instanceof RegExp) await expect(result).rejects.toThrow(want);
    else expect(await result).toMatchObject(want);
  });
});

describe("a list of kubeconfig files", () => {
  it("skips files that do not exist, and merges the rest first-wins", () => {
    const c = fromKubeconfigFiles([join(dir, "gone.yaml"), join(dir, "b.yaml"), join(dir, "a.yaml")], undefined, {});
    expect(c).toMatchObject({ contextName: "b", server: "https://shadowed:6443" });
  });

  it("fails when none exists, naming them", () => {
    expect(() => fromKubeconfigFiles([join(dir, "gone.yaml"), join(dir, "lost.yaml")])).toThrow(`none of the kubeconfig files exists: ${join(dir, "gone.yaml")}, ${join(dir, "lost.yaml")}`);
  });

  it("comes from KUBECONFIG split on the platform's delimiter; --kubeconfig is one file that must exist", () => {
    const KUBECONFIG = [join(dir, "gone.yaml"), join(dir, "b.yaml"), join(dir, "a.yaml")].join(delimiter);
    expect(loadCredentials({ env: { KUBECONFIG } }).contextName).toBe("b");
    expect(loadCredentials({ kubeconfig: join(dir, "a.yaml"), env: { KUBECONFIG } }).contextName).toBe("a");
    expect(() => loadCredentials({ kubeconfig: join(dir, "gone.yaml"), env: { KUBECONFIG } })).toThrow(`kubeconfig ${join(dir, "gone.yaml")} does not exist`);
  });
});

describe("impersonation flags", () => {
  it("take over the kubeconfig's as and as-groups, field by field", async () => {
    const path = join(dir, "as.yaml");
    await writeFile(path, kubeconfig({}, { token: "t", as: "jane", "as-uid": "7", "as-groups": ["dev"] }));
    const { credentials, client } = connectToCluster({ kubeconfig: path, impersonate: { user: "bob", groups: ["ops", "sre"] }, env: {} });
    client.close();
    expect(impersonationHeaders(credentials.impersonate)).toEqual({ "Impersonate-User": "bob", "Impersonate-Uid": "7", "Impersonate-Group": ["ops", "sre"] });
  });
});
