import { describe, expect, it } from "vitest";
import { CloudApiError, CloudAuthError, CloudConnectionError, ValidationError } from "../errors.js";
import { TfcClient, type Fetch } from "./tfc-client.js";
import { fakeServer, json, noContent } from "../../test/harness/fake-tfc.js";
import { apiRoot } from "./tfc-transport.js";

const TOKEN = "tok.atlasv1.secret-token-value";

function client(fetch: Fetch, extra: { sleep?: (ms: number) => Promise<void> } = {}) {
  return new TfcClient({ hostname: "tfc.example.com", token: TOKEN, fetch, ...extra });
}

const workspaceDoc = (attributes: Record<string, unknown> = {}) => ({
  data: {
    id: "ws-1",
    type: "workspaces",
    attributes: { name: "team-app", "terraform-version": "1.5.7", "execution-mode": "remote", "auto-apply": false, "working-directory": "", "tag-names": null, ...attributes },
    relationships: { organization: { data: { id: "org", type: "organizations" } }, "current-run": { data: null }, project: { data: { id: "prj-1", type: "projects" } } },
  },
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).not.toContain(TOKEN);
  return err as Error;
}

describe("apiRoot", () => {
  it.each([
    ["app.terraform.io", undefined, "https://app.terraform.io/api/v2", "app.terraform.io"],
    ["tfe.example.com:8443", undefined, "https://tfe.example.com:8443/api/v2", "tfe.example.com:8443"],
    ["http://127.0.0.1:8833", undefined, "http://127.0.0.1:8833/api/v2", "127.0.0.1:8833"],
    ["http://127.0.0.1:8833/", undefined, "http://127.0.0.1:8833/api/v2", "127.0.0.1:8833"],
    ["tfe.example.com", "https://proxy.example.com/tfe/api/v2/", "https://proxy.example.com/tfe/api/v2", "tfe.example.com"],
  ])("%s (baseUrl %s) -> %s, named %s", (hostname, baseUrl, root, host) => {
    expect(apiRoot(hostname, baseUrl)).toEqual({ baseUrl: root, host });
  });
});

describe("TfcClient requests", () => {
  it("sends JSON:API with the bearer token, and reads the answer into camelCase", async () => {
    const server = fakeServer({ "POST /api/v2/organizations/org/workspaces": () => json(workspaceDoc({ "tag-names": ["a"] }), 201) });
    const ws = await client(server.fetch).workspaces.create("org", { name: "team-app", terraformVersion: "1.5.7", autoApply: false, projectId: "prj-1", tags: ["a"] });
    const [call] = server.calls;
    expect(call?.url.toString()).toBe("https://tfc.example.com/api/v2/organizations/org/workspaces");
    expect(call?.headers).toEqual({ authorization: `Bearer ${TOKEN}`, accept: "application/vnd.api+json", "content-type": "application/vnd.api+json" });
    expect(call?.body).toEqual({
      data: {
        type: "workspaces",
        attributes: { name: "team-app", "terraform-version": "1.5.7", "auto-apply": false },
        relationships: { project: { data: { type: "projects", id: "prj-1" } }, tags: { data: [{ type: "tags", attributes: { name: "a" } }] } },
      },
    });
    expect(ws).toEqual({
      id: "ws-1", name: "team-app", organization: "org", terraformVersion: "1.5.7", executionMode: "remote", agentPoolId: undefined, autoApply: false,
      workingDirectory: "", tagNames: ["a"], locked: false, description: "", projectId: "prj-1", currentRunId: undefined,
    });
  });

  it("escapes names in paths", async () => {
    const server = fakeServer({});
    expect(await client(server.fetch).workspaces.byName("my org", "a/b")).toBeUndefined();
    expect(server.calls[0]?.url.pathname).toBe("/api/v2/organizations/my%20org/workspaces/a%2Fb");
  });

  it("gives undefined for a 404 where absence is an answer, and a CloudApiError elsewhere", async () => {
    const server = fakeServer({});
    const c = client(server.fetch);
    expect(await c.workspaces.byName("org", "none")).toBeUndefined();
    expect(await c.organizations.get("none")).toBeUndefined();
    expect(await c.stateVersions.current("ws-1")).toBeUndefined();
    const err = await rejection(c.workspaces.get("ws-none"));
    expect(err).toBeInstanceOf(CloudApiError);
    expect((err as CloudApiError).status).toBe(404);
    expect(err.message).toBe("tfc.example.com answered 404 Not Found to GET /workspaces/ws-none: 404 page not found (TFC also answers 404 for what the token may not see)");
  });

  it("turns a 401 into a CloudAuthError that names the host, never the token", async () => {
    const server = fakeServer({ "GET /api/v2/organizations/org": () => new Response(`invalid token ${TOKEN}`, { status: 401 }) });
    const err = await rejection(client(server.fetch).organizations.get("org"));
    expect(err).toBeInstanceOf(CloudAuthError);
    expect(err.message).toBe("the token for tfc.example.com was refused (401 to GET /organizations/org): give a valid API token for tfc.example.com");
  });

  it("reports JSON:API errors, with the token and the sensitive value sent blanked out", async () => {
    const server = fakeServer({
      "POST /api/v2/workspaces/ws-1/vars": () => json({ errors: [{ status: "422", title: "invalid attribute", detail: "Key has already been taken; value hush-1 with Bearer " + TOKEN }] }, 422),
    });
    const err = await rejection(client(server.fetch).variables.create("ws-1", { key: "k", value: "hush-1", category: "terraform", sensitive: true }));
    expect(err).toBeInstanceOf(CloudApiError);
    expect((err as CloudApiError).status).toBe(422);
    expect(err.message).toBe("tfc.example.com answered 422 to POST /workspaces/ws-1/vars: invalid attribute: Key has already been taken; value *** with Bearer ***");
  });

  it("waits out a 429 as X-RateLimit-Reset says, then retries", async () => {
    let n = 0;
    const server = fakeServer({
      "GET /api/v2/workspaces/ws-1": () => (n++ < 2 ? new Response("", { status: 429, headers: { "X-RateLimit-Reset": "0.25" } }) : json(workspaceDoc())),
    });
    const waits: number[] = [];
    const ws = await client(server.fetch, { sleep: (ms) => (waits.push(ms), Promise.resolve()) }).workspaces.get("ws-1");
    expect(ws.id).toBe("ws-1");
    expect(waits).toEqual([250, 250]);
    expect(server.calls).toHaveLength(3);
  });

  it("names an unreachable host as a CloudConnectionError", async () => {
    const refused: Fetch = () => Promise.reject(new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) }));
    const err = await rejection(client(refused).workspaces.get("ws-1"));
    expect(err).toBeInstanceOf(CloudConnectionError);
    expect(err.message).toBe("cannot reach tfc.example.com for GET /workspaces/ws-1 (ECONNREFUSED); check the hostname and the network");
  });

  it("refuses an answer of the wrong shape, naming the field", async () => {
    const server = fakeServer({ "GET /api/v2/workspaces/ws-1": () => json({ data: { id: "ws-1", type: "workspaces", attributes: { name: 7 } } }) });
    const err = await rejection(client(server.fetch).workspaces.get("ws-1"));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toContain("invalid answer of tfc.example.com to GET /workspaces/ws-1: data.attributes.name: expected string");
  });

  it("refuses an answer that is not JSON", async () => {
    const server = fakeServer({ "GET /api/v2/workspaces/ws-1": () => new Response("<html>", { status: 200 }) });
    const err = await rejection(client(server.fetch).workspaces.get("ws-1"));
    expect(err.message).toBe("tfc.example.com answered GET /workspaces/ws-1 with something that is not JSON; is https://tfc.example.com/api/v2 a TFC/TFE API?");
  });
});

describe("TfcClient resources", () => {
  it("never gives back a sensitive variable's value, whether the server sends null (TFC) or empty (OTF)", async () => {
    const v = (id: string, attributes: Record<string, unknown>) => ({ id, type: "vars", attributes: { category: "terraform", hcl: false, ...attributes } });
    const server = fakeServer({
      "GET /api/v2/workspaces/ws-1/vars": () => json({
        data: [v("var-1", { key: "a", value: "x", sensitive: false }), v("var-2", { key: "b", value: null, sensitive: true }), v("var-3", { key: "c", value: "", sensitive: true, category: "env", hcl: true })],
      }),
    });
    const vars = await client(server.fetch).variables.list("ws-1");
    expect(vars.map((x) => [x.key, x.value, x.sensitive, x.category, x.hcl])).toEqual([
      ["a", "x", false, "terraform", false],
      ["b", undefined, true, "terraform", false],
      ["c", undefined, true, "env", true],
    ]);
  });

  it("reads every page of a paginated list", async () => {
    const tag = (name: string) => ({ id: `tag-${name}`, type: "tags", attributes: { name } });
    const server = fakeServer({
      "GET /api/v2/workspaces/ws-1/relationships/tags": ({ url }) => url.searchParams.get("page[number]") === "1"
        ? json({ data: [tag("a")], meta: { pagination: { "current-page": 1, "next-page": 2 } } })
        : json({ data: [tag("b")], meta: { pagination: { "current-page": 2, "next-page": null } } }),
    });
    expect(await client(server.fetch).workspaces.tags("ws-1")).toEqual(["a", "b"]);
    expect(server.calls.map((c) => c.url.searchParams.get("page[size]"))).toEqual(["100", "100"]);
  });

  it("removes tags by their ids, read first", async () => {
    const server = fakeServer({
      "GET /api/v2/workspaces/ws-1/relationships/tags": () => json({ data: [{ id: "tag-1", type: "tags", attributes: { name: "a" } }, { id: "tag-2", type: "tags", attributes: { name: "b" } }] }),
      "DELETE /api/v2/workspaces/ws-1/relationships/tags": noContent,
    });
    await client(server.fetch).workspaces.removeTags("ws-1", ["b", "absent"]);
    expect(server.calls[1]?.body).toEqual({ data: [{ type: "tags", id: "tag-2", attributes: { name: "b" } }] });
  });

  it("creates a run against a configuration version and confirms it", async () => {
    const run = { id: "run-1", type: "runs", attributes: { status: "pending", "is-destroy": true }, relationships: { plan: { data: { id: "plan-1", type: "plans" } } } };
    const server = fakeServer({ "POST /api/v2/runs": () => json({ data: run }, 201), "POST /api/v2/runs/run-1/actions/apply": () => new Response(null, { status: 202 }) });
    const c = client(server.fetch);
    const created = await c.runs.create({ workspaceId: "ws-1", configurationVersionId: "cv-1", message: "m", isDestroy: true, autoApply: true });
    await c.runs.apply("run-1", "ok");
    expect(server.calls[0]?.body).toEqual({
      data: {
        type: "runs",
        attributes: { message: "m", "is-destroy": true, "auto-apply": true },
        relationships: { workspace: { data: { type: "workspaces", id: "ws-1" } }, "configuration-version": { data: { type: "configuration-versions", id: "cv-1" } } },
      },
    });
    expect(server.calls[1]?.body).toEqual({ comment: "ok" });
    expect(created).toMatchObject({ id: "run-1", status: "pending", isDestroy: true, planId: "plan-1", isConfirmable: false });
  });

  it("polls a run until it is planned, with the injected sleep", async () => {
    const statuses = ["pending", "planning", "planned"];
    const server = fakeServer({
      "GET /api/v2/runs/run-1": () => json({ data: { id: "run-1", type: "runs", attributes: { status: statuses.shift() ?? "planned", actions: { "is-confirmable": true } } } }),
    });
    const waits: number[] = [];
    const run = await client(server.fetch, { sleep: (ms) => (waits.push(ms), Promise.resolve()) }).runs.waitFor("run-1", (r) => r.status === "planned", { intervalMs: 10 });
    expect(run.status).toBe("planned");
    expect(waits).toEqual([10, 10]);
  });

  it("uploads to a relative upload-url on the API's host, without the token", async () => {
    const server = fakeServer({
      "POST /api/v2/workspaces/ws-1/configuration-versions": () => json({ data: { id: "cv-1", type: "configuration-versions", attributes: { status: "pending", "upload-url": "/signed/abc/configuration-versions/cv-1/upload" } } }, 201),
      "PUT /signed/abc/configuration-versions/cv-1/upload": () => new Response(null, { status: 200 }),
    });
    const c = client(server.fetch);
    const cv = await c.configurationVersions.create("ws-1");
    await c.configurationVersions.upload(cv, new Uint8Array([31, 139]));
    expect(server.calls[0]?.body).toEqual({ data: { type: "configuration-versions", attributes: { "auto-queue-runs": false, speculative: false } } });
    const put = server.calls[1];
    expect(put?.url.toString()).toBe("https://tfc.example.com/signed/abc/configuration-versions/cv-1/upload");
    expect(put?.headers).toEqual({ "content-type": "application/octet-stream" });
    expect(put?.body).toEqual(new Uint8Array([31, 139]));
  });

  it("reads the current state version's outputs from what it includes", async () => {
    const server = fakeServer({
      "GET /api/v2/workspaces/ws-1/current-state-version": ({ url }) => {
        expect(url.searchParams.get("include")).toBe("outputs");
        return json({
          data: { id: "sv-1", type: "state-versions", attributes: { serial: 3, "resources-processed": true } },
          included: [
            { id: "wsout-1", type: "state-version-outputs", attributes: { name: "url", sensitive: false, type: "string", value: "https://x" } },
            { id: "wsout-2", type: "state-version-outputs", attributes: { name: "password", sensitive: true, type: "string", value: null } },
          ],
        });
      },
    });
    expect(await client(server.fetch).stateVersions.current("ws-1")).toEqual({
      id: "sv-1", serial: 3, resourcesProcessed: true,
      outputs: [
        { id: "wsout-1", name: "url", sensitive: false, type: "string", value: "https://x" },
        { id: "wsout-2", name: "password", sensitive: true, type: "string", value: null },
      ],
    });
  });
});

describe("TfcClient logs", () => {
  /** A log-read-url whose log grows by one piece per read, as a phase writes it. */
  function growingLog(pieces: Uint8Array[]) {
    const written: number[] = [];
    let log = new Uint8Array();
    const fetch: Fetch = (url) => {
      const u = new URL(url);
      const next = pieces.shift();
      if (next) log = new Uint8Array([...log, ...next]);
      const offset = Number(u.searchParams.get("offset"));
      written.push(offset);
      return Promise.resolve(new Response(log.subarray(offset), { status: 200 }));
    };
    return { fetch, written };
  }
  const bytes = (s: string) => new TextEncoder().encode(s);

  it("follows a log from its STX to its ETX, a character split across reads kept whole", async () => {
    const euro = bytes("€");
    const log = growingLog([new Uint8Array([2, ...bytes("Plan: ")]), new Uint8Array(), euro.subarray(0, 1), new Uint8Array([...euro.subarray(1), ...bytes("1 to add\n"), 3])]);
    const c = new TfcClient({ hostname: "tfc.example.com", token: TOKEN, fetch: log.fetch, sleep: () => Promise.resolve() });
    const chunks: string[] = [];
    for await (const chunk of c.logs.follow("https://archivist.example.com/v1/object/abc?sig=x", { finished: () => Promise.resolve(false) })) chunks.push(chunk);
    expect(chunks.join("")).toBe("Plan: €1 to add\n");
    expect(log.written).toEqual([0, 7, 7, 8]);
  });

  it("ends a log without ETX once the phase has ended and a last read brings nothing", async () => {
    const log = growingLog([bytes("a"), new Uint8Array(), bytes("b")]);
    let asked = 0;
    const c = new TfcClient({ hostname: "tfc.example.com", token: TOKEN, fetch: log.fetch, sleep: () => Promise.resolve() });
    const text: string[] = [];
    for await (const chunk of c.logs.follow("/signed/x/runs/run-1/logs/plan", { finished: () => Promise.resolve(++asked > 0) })) text.push(chunk);
    expect(text.join("")).toBe("ab");
  });

  it("reads on from a newer URL where an expired one stopped, and gives up when there is none", async () => {
    const log = new Uint8Array([2, ...bytes("first\nsecond\n"), 3]);
    const reads: string[] = [];
    const fetch: Fetch = (url) => {
      const u = new URL(url);
      reads.push(`${u.searchParams.get("sig")}@${u.searchParams.get("offset")}`);
      const offset = Number(u.searchParams.get("offset"));
      if (u.searchParams.get("sig") === "old" && offset > 0) return Promise.resolve(new Response("expired", { status: 403 }));
      return Promise.resolve(new Response(log.subarray(offset, offset === 0 ? 7 : undefined), { status: 200 }));
    };
    const c = new TfcClient({ hostname: "tfc.example.com", token: TOKEN, fetch, sleep: () => Promise.resolve() });
    const text: string[] = [];
    const refresh = () => Promise.resolve("https://archivist.example.com/v1/object/abc?sig=new");
    for await (const chunk of c.logs.follow("https://archivist.example.com/v1/object/abc?sig=old", { finished: () => Promise.resolve(false), refresh })) text.push(chunk);
    expect(text.join("")).toBe("first\nsecond\n");
    expect(reads).toEqual(["old@0", "old@7", "new@7"]);

    const stale = c.logs.follow("https://archivist.example.com/v1/object/abc?sig=old", { finished: () => Promise.resolve(false), refresh: () => Promise.resolve("https://archivist.example.com/v1/object/abc?sig=old") });
    await expect((async () => { for await (const _ of stale) void _; })()).rejects.toMatchObject({ status: 403 });
  });

  it("sends no token to the log-read-url", async () => {
    const server = fakeServer({ "GET /v1/object/abc": () => new Response(new Uint8Array([2, 65, 3])) });
    const c = client(server.fetch);
    expect(await c.logs.text("https://archivist.example.com/v1/object/abc?sig=x")).toBe("A");
    expect(server.calls[0]?.headers).toEqual({});
    expect(server.calls[0]?.url.searchParams.get("sig")).toBe("x");
  });
});
