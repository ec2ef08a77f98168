// Checks by hand, without the cluster, ktf's TFC/TFE client against a real TFC API server:
// OTF as scripts/otf.sh runs it (start it first: scripts/otf.sh up). Organization,
// workspace settings and tags, variables (a sensitive one write-only), a configuration
// upload, a run planned, its log streamed, applied, outputs from the state, a destroy run,
// and the calls OTF may lack, each reported with what OTF answered.
//   node --import tsx scripts/check-otf.ts
// Not part of npm test: it needs OTF running.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { packConfiguration } from "../src/archive/pack.js";
import { TfcClient, type Run } from "../src/cloud/tfc-client.js";
import { CloudApiError, CloudAuthError, errorMessage } from "../src/errors.js";

const ROOT = join(dirname(new URL(import.meta.url).pathname), "..");
const env = Object.fromEntries(
  execFileSync(join(ROOT, "scripts/otf.sh"), ["env"], { encoding: "utf8" }).trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
) as Record<string, string>;
const { OTF_URL = "", OTF_TOKEN = "", OTF_TERRAFORM_VERSION = "" } = env;
const SUFFIX = randomBytes(3).toString("hex");
const ORG = `ktf-check-${SUFFIX}`;
const SECRET_WORD = `hush-${randomBytes(6).toString("hex")}`;

const CONFIG = `variable "greeting" { type = string }
variable "numbers" { type = list(number) }
variable "secret_word" {
  type      = string
  sensitive = true
}
variable "from_env" { type = string }
resource "terraform_data" "hello" {
  input = "\${var.greeting} \${length(var.numbers)} \${var.from_env}"
  # Output over three seconds, so that the apply's log is read while it is written.
  provisioner "local-exec" {
    command = "for i in 1 2 3; do echo tick $i; sleep 1; done"
  }
}
output "message" { value = terraform_data.hello.output }
output "numbers" { value = var.numbers }
output "secret" {
  value     = var.secret_word
  sensitive = true
}
`;

let failures = 0;
const started = Date.now();
function check(what: string, ok: boolean, detail: string): void {
  if (!ok) failures++;
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}: ${detail}`);
}
function info(what: string, detail: string): void {
  console.log(`  info ${what}: ${detail}`);
}
// OTF runs the engine with colours, as TFC does.
// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** What a call answered: "ok", or the status and message of its CloudApiError. */
async function probe(what: string, call: () => Promise<unknown>): Promise<number> {
  try {
    const result = await call();
    info(what, `served (${JSON.stringify(result)?.slice(0, 160) ?? "no content"})`);
    return 200;
  } catch (err) {
    if (!(err instanceof CloudApiError)) throw err;
    info(what, `not served: ${err.status} (${err.message})`);
    return err.status;
  }
}

/** The raw answer, to see what the server itself sends back. */
async function raw(path: string): Promise<unknown> {
  const r = await fetch(`${OTF_URL}/api/v2${path}`, { headers: { Authorization: `Bearer ${OTF_TOKEN}`, Accept: "application/vnd.api+json" } });
  return r.json();
}

const client = new TfcClient({ hostname: OTF_URL, token: OTF_TOKEN, fetch: (url, init) => fetch(url, init) });
const isPlanned = (r: Run) => r.isConfirmable || ["planned", "cost_estimated", "policy_checked"].includes(r.status);

async function checkAuthAndOrganization(): Promise<void> {
  const wrong = new TfcClient({ hostname: OTF_URL, token: "ktf-wrong-token-0000", fetch: (url, init) => fetch(url, init) });
  const err = await wrong.organizations.get("anything").then(() => undefined, (e: unknown) => e);
  check("a wrong token is refused", err instanceof CloudAuthError && !errorMessage(err).includes("ktf-wrong-token"), errorMessage(err));

  check("organization absent before", (await client.organizations.get(ORG)) === undefined, `${ORG}: undefined`);
  const org = await client.organizations.create(ORG, "ktf-check@example.com");
  const read = await client.organizations.get(ORG);
  check("organization create and get", org.name === ORG && read?.email === "ktf-check@example.com", JSON.stringify(read));
}

async function checkWorkspace(): Promise<string> {
  const name = `check-${SUFFIX}`;
  const ws = await client.workspaces.create(ORG, {
    name, terraformVersion: OTF_TERRAFORM_VERSION, executionMode: "remote", autoApply: false, description: "made by check-otf", tags: ["ktf", "check"],
  });
  const read = await client.workspaces.byName(ORG, name);
  check("workspace create and get by name", read?.id === ws.id && read.terraformVersion === OTF_TERRAFORM_VERSION && read.executionMode === "remote" && !read.autoApply,
    `${ws.id} terraform ${read?.terraformVersion} ${read?.executionMode} auto-apply=${String(read?.autoApply)} organization=${read?.organization}`);
  check("tags given on create", [...(await client.workspaces.tags(ws.id))].sort().join(",") === "check,ktf", `relationships/tags: ${JSON.stringify(await client.workspaces.tags(ws.id))}; tag-names ${JSON.stringify(read?.tagNames)}`);
  await client.workspaces.addTags(ws.id, ["extra"]);
  await client.workspaces.removeTags(ws.id, ["check"]);
  const tags = (await client.workspaces.tags(ws.id)).sort();
  check("tags added and removed", tags.join(",") === "extra,ktf", JSON.stringify(tags));

  const updated = await client.workspaces.update(ws.id, { description: "updated by check-otf", autoApply: true, workingDirectory: "" });
  const again = await client.workspaces.get(ws.id);
  check("workspace update", updated.autoApply && again.autoApply && again.description === "updated by check-otf", `auto-apply=${String(again.autoApply)} description=${JSON.stringify(again.description)}`);
  await client.workspaces.update(ws.id, { autoApply: false });

  const locked = await client.workspaces.lock(ws.id, "check-otf");
  const unlocked = await client.workspaces.unlock(ws.id);
  check("lock and unlock", locked.locked && !unlocked.locked, `locked=${String(locked.locked)} then ${String(unlocked.locked)}`);
  check("absent workspace is undefined", (await client.workspaces.byName(ORG, "no-such-workspace")) === undefined, "byName -> undefined");
  return ws.id;
}

async function checkVariables(wsId: string): Promise<void> {
  await client.variables.create(wsId, { key: "greeting", value: "hello", category: "terraform" });
  await client.variables.create(wsId, { key: "numbers", value: "[1, 2, 3]", category: "terraform", hcl: true });
  await client.variables.create(wsId, { key: "secret_word", value: SECRET_WORD, category: "terraform", sensitive: true });
  await client.variables.create(wsId, { key: "TF_VAR_from_env", value: "from-env", category: "env" });
  const doomed = await client.variables.create(wsId, { key: "removed", value: "x", category: "env" });
  let vars = await client.variables.list(wsId);
  const secret = vars.find((v) => v.key === "secret_word");
  const rawVars = JSON.stringify(await raw(`/workspaces/${wsId}/vars`));
  check("sensitive variable reads back without its value", secret?.sensitive === true && secret.value === undefined && !rawVars.includes(SECRET_WORD),
    `sensitive=${String(secret?.sensitive)}; the server's own answer has value ${JSON.stringify((JSON.parse(rawVars) as { data: { attributes: { key: string; value: unknown } }[] }).data.find((d) => d.attributes.key === "secret_word")?.attributes.value)}`);
  const greeting = vars.find((v) => v.key === "greeting");
  const changed = greeting && (await client.variables.update(wsId, greeting.id, { value: "hello again" }));
  await client.variables.delete(wsId, doomed.id);
  vars = await client.variables.list(wsId);
  check("variables create, update, delete", changed?.value === "hello again" && vars.length === 4 && !vars.some((v) => v.key === "removed"),
    vars.map((v) => `${v.key}(${v.category}${v.hcl ? ",hcl" : ""}${v.sensitive ? ",sensitive" : ""})=${v.value === undefined ? "<write-only>" : JSON.stringify(v.value)}`).join(" "));
}

async function upload(wsId: string, config = CONFIG): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "ktf-check-otf-"));
  try {
    writeFileSync(join(dir, "main.tf"), config);
    const packed = await packConfiguration(dir);
    const cv = await client.configurationVersions.create(wsId);
    await client.configurationVersions.upload(cv, packed.bytes);
    const uploaded = await client.configurationVersions.waitUploaded(cv.id);
    check("configuration upload", uploaded.status === "uploaded", `${cv.id}: ${packed.size} bytes to upload-url ${cv.uploadUrl?.replace(/\/signed\/[^/]+\//, "/signed/<signature>/")}; status ${uploaded.status}`);
    return cv.id;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Streams the phase's log as it is written; the whole text. */
async function streamLog(phase: "plan" | "apply", id: string): Promise<{ text: string; chunks: number; url: string }> {
  const get = () => (phase === "plan" ? client.plans.get(id) : client.applies.get(id));
  const first = await get();
  const url = first.logReadUrl ?? "";
  let text = "";
  let chunks = 0;
  const finished = async () => ["finished", "errored", "canceled", "unreachable"].includes((await get()).status);
  for await (const chunk of client.logs.follow(url, { finished, intervalMs: 250 })) {
    text += chunk;
    chunks++;
  }
  return { text: plain(text), chunks, url: url.replace(/\/signed\/[^/]+\//, "/signed/<signature>/") };
}

async function checkRun(wsId: string, cvId: string): Promise<void> {
  let t = Date.now();
  const run = await client.runs.create({ workspaceId: wsId, configurationVersionId: cvId, message: "check-otf apply" });
  const statuses = new Set<string>([run.status]);
  const planned = await client.runs.waitFor(run.id, (r) => (statuses.add(r.status), isPlanned(r)), { intervalMs: 250, timeoutMs: 180_000 });
  check("run planned", isPlanned(planned), `${run.id}: ${[...statuses].join(" -> ")} in ${seconds(t)}; confirmable=${String(planned.isConfirmable)} has-changes=${String(planned.hasChanges)}`);
  if (!planned.planId) return check("run has a plan", false, JSON.stringify(planned));
  const plan = await streamLog("plan", planned.planId);
  const planPhase = await client.plans.get(planned.planId);
  info("the plan as OTF gives it", JSON.stringify((await raw(`/plans/${planned.planId}`) as { data: unknown }).data).replace(/\/signed\/[^/]+\//, "/signed/<signature>/"));
  info("the run as OTF gives it", JSON.stringify((await raw(`/runs/${run.id}`) as { data: { attributes: unknown } }).data.attributes));
  check("plan log", plan.text.includes("terraform_data.hello will be created") && plan.text.includes("Plan: 1 to add"),
    `${plan.text.length} chars in ${plan.chunks} chunk(s) from ${plan.url}; additions=${planPhase.additions}; ${JSON.stringify(plan.text.split("\n").find((l) => l.includes("Plan:")))}`);
  check("plan log hides the sensitive value", !plan.text.includes(SECRET_WORD), "the secret word is not in the log");

  t = Date.now();
  await client.runs.apply(run.id, "check-otf confirms");
  const confirmed = await client.runs.get(run.id);
  const apply = confirmed.applyId ? await streamLog("apply", confirmed.applyId) : { text: "", chunks: 0, url: "" };
  const applied = await client.runs.waitFor(run.id, (r) => (statuses.add(r.status), r.status === "applied"), { intervalMs: 250, timeoutMs: 180_000 });
  check("run applied", applied.status === "applied", `${[...statuses].join(" -> ")}; apply in ${seconds(t)}`);
  check("apply log", apply.text.includes("Apply complete! Resources: 1 added") && apply.text.includes("tick 3"),
    `${apply.chunks} chunk(s) read while the apply ran; ${JSON.stringify(apply.text.split("\n").find((l) => l.includes("Apply complete")))}`);
}

async function checkOutputs(wsId: string): Promise<number> {
  const state = await client.stateVersions.current(wsId);
  const byName = new Map(state?.outputs.map((o) => [o.name, o]) ?? []);
  const message = byName.get("message");
  const secret = byName.get("secret");
  check("outputs from the current state version", message?.value === "hello again 3 from-env" && JSON.stringify(byName.get("numbers")?.value) === "[1,2,3]",
    `serial ${state?.serial} resources-processed=${String(state?.resourcesProcessed)}; ${state?.outputs.map((o) => `${o.name}(${o.type}${o.sensitive ? ",sensitive" : ""})=${o.sensitive ? (o.value === undefined || o.value === null ? "<no value>" : "<value given>") : JSON.stringify(o.value)}`).join(" ")}`);
  const secretValue = secret && (await client.stateVersions.output(secret.id)).value;
  info("a sensitive output read on its own", `${secret?.id}: value ${secretValue === SECRET_WORD ? "given (the secret word)" : JSON.stringify(secretValue)}; in the include: ${secret?.value === SECRET_WORD ? "given" : JSON.stringify(secret?.value)}`);
  return state?.serial ?? -1;
}

async function checkDestroy(wsId: string, serialBefore: number): Promise<void> {
  const t = Date.now();
  const run = await client.runs.create({ workspaceId: wsId, message: "check-otf destroy", isDestroy: true, autoApply: true });
  const statuses = new Set<string>([run.status]);
  let done = await client.runs.waitFor(run.id, (r) => (statuses.add(r.status), r.status === "applied" || isPlanned(r)), { intervalMs: 250, timeoutMs: 180_000 });
  const autoApplied = done.status === "applied";
  if (!autoApplied && isPlanned(done)) {
    await client.runs.apply(run.id);
    done = await client.runs.waitFor(run.id, (r) => (statuses.add(r.status), r.status === "applied"), { intervalMs: 250, timeoutMs: 180_000 });
  }
  const state = await client.stateVersions.current(wsId);
  check("destroy run", done.status === "applied" && done.isDestroy && (state?.serial ?? 0) > serialBefore && state?.outputs.length === 0,
    `${run.id}: ${[...statuses].join(" -> ")} in ${seconds(t)} (the run's auto-apply ${autoApplied ? "was honoured" : "was not honoured: applied by hand"}); state serial ${serialBefore} -> ${state?.serial}, ${state?.outputs.length} outputs`);
}

async function checkDiscardAndCancel(wsId: string, cvId: string): Promise<void> {
  let run = await client.runs.create({ workspaceId: wsId, configurationVersionId: cvId, message: "check-otf discard" });
  run = await client.runs.waitFor(run.id, isPlanned, { intervalMs: 250, timeoutMs: 180_000 });
  await client.runs.discard(run.id, "check-otf discards");
  run = await client.runs.waitFor(run.id, (r) => r.status === "discarded", { intervalMs: 250, timeoutMs: 60_000 });
  check("discard a planned run", run.status === "discarded", run.status);

  run = await client.runs.create({ workspaceId: wsId, configurationVersionId: cvId, message: "check-otf cancel" });
  const before = run.status;
  const err = await client.runs.cancel(run.id, "check-otf cancels").then(() => undefined, (e: unknown) => e);
  run = await client.runs.waitFor(run.id, () => false, { intervalMs: 250, timeoutMs: 60_000 });
  check("cancel a run just created", err === undefined ? ["canceled", "discarded"].includes(run.status) : err instanceof CloudApiError,
    `${before} -> ${run.status}${err ? `; cancel answered ${errorMessage(err)}` : ""}`);
  const listed = await client.runs.list(wsId);
  check("runs list", listed.length >= 4 && listed.some((r) => r.id === run.id), `${listed.length} runs: ${listed.map((r) => r.status).join(", ")}`);
}

/** The calls of today's TFC API that an older server may not have. */
async function probeMissing(wsId: string, otherId: string): Promise<void> {
  await probe("projects list (GET /organizations/:org/projects)", () => client.projects.list(ORG));
  await probe("workspace create with a project", async () => {
    const w = await client.workspaces.create(ORG, { name: `check-project-${SUFFIX}`, terraformVersion: OTF_TERRAFORM_VERSION, projectId: "prj-doesnotexist" });
    await client.workspaces.delete(w.id);
    return `created ${w.id} with project ${w.projectId ?? "none"}: the project relationship is ignored`;
  });
  await probe("run triggers list (GET /workspaces/:id/run-triggers)", () => client.runTriggers.inbound(wsId));
  await probe("run trigger create (POST /workspaces/:id/run-triggers)", () => client.runTriggers.create(wsId, otherId));
  const created = await probe("notification create (POST /workspaces/:id/notification-configurations)", () =>
    client.notifications.create(wsId, { name: "check", destinationType: "generic", enabled: false, url: "http://127.0.0.1:9/hook", token: "hmac-key-not-shown", triggers: ["run:completed"] }));
  await probe("notifications list (GET /workspaces/:id/notification-configurations)", () => client.notifications.list(wsId));
  if (created === 200) {
    const [n] = await client.notifications.list(wsId);
    if (n) await probe("notification update and delete", async () => (await client.notifications.update(n.id, { enabled: false }), await client.notifications.delete(n.id), "deleted"));
  }
  await probe("safe-delete (POST /workspaces/:id/actions/safe-delete)", () => client.workspaces.safeDelete(otherId));
}

async function main(): Promise<void> {
  console.log(`OTF at ${OTF_URL}, engine terraform ${OTF_TERRAFORM_VERSION}, organization ${ORG}`);
  await checkAuthAndOrganization();
  const wsId = await checkWorkspace();
  const other = await client.workspaces.create(ORG, { name: `check-other-${SUFFIX}`, terraformVersion: OTF_TERRAFORM_VERSION });
  try {
    await checkVariables(wsId);
    const cvId = await upload(wsId);
    await checkRun(wsId, cvId);
    const serial = await checkOutputs(wsId);
    await checkDestroy(wsId, serial);
    await checkDiscardAndCancel(wsId, cvId);
    await probeMissing(wsId, other.id);
  } finally {
    await client.workspaces.delete(wsId).catch((e: unknown) => check("workspace delete", false, errorMessage(e)));
    if ((await client.workspaces.byName(ORG, other.name)) !== undefined) await client.workspaces.delete(other.id);
    check("workspace delete", (await client.workspaces.byName(ORG, `check-${SUFFIX}`)) === undefined, "byName -> undefined");
    await client.organizations.delete(ORG);
  }
}

await main().catch((err: unknown) => {
  failures++;
  console.log(`  FAIL unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
});
console.log(failures ? `\n${failures} check(s) failed in ${seconds(started)}` : `\nall checks passed in ${seconds(started)}`);
process.exitCode = failures ? 1 : 0;
