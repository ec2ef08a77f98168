import { isFinished, runSchema, type Run } from "../../api/run.js";
import { UsageError } from "../../errors.js";
import { followPodLog } from "../../kube/log-follower.js";
import { RESOURCES } from "../../kube/resources.js";
import type { KtfOptions } from "../engine-args.js";
import { readLocalSettings } from "../local-settings.js";
import { connect, type Session } from "../session.js";
import { RunLogRenderer } from "../output/run-log.js";
import { loadRunKey } from "../sealing-keys.js";
import { age, table } from "../output/table.js";
import { note, type Terminal } from "../output/terminal.js";
import { followRun, exitCodeOf } from "../run-session.js";
import { followCloudLog } from "../cloud-log.js";

async function getRun(session: Session, name: string): Promise<Run> {
  const raw = await session.client.get(RESOURCES.Run, session.namespace, name);
  if (!raw) throw new UsageError(`run ${name} does not exist in namespace ${session.namespace}: see \`ktf runs list\``);
  return runSchema.parse(raw);
}

export async function runsList(t: Terminal, o: KtfOptions & { all?: boolean }): Promise<number> {
  const session = await connect(t, o, t.cwd);
  const workspace = o.all ? undefined : (o.workspace ?? (await readLocalSettings(t.cwd)).workspace);
  const list = await session.client.list(RESOURCES.Run, session.namespace);
  const now = new Date();
  const runs = list.items
    .map((raw) => runSchema.parse(raw))
    .filter((r) => !workspace || r.spec.workspace === workspace)
    .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""));
  if (!runs.length) {
    note(t, `No runs${workspace ? ` for workspace ${workspace}` : ""} in namespace ${session.namespace}.`);
    return 0;
  }
  const rows = runs.map((r) => [
    r.metadata.name ?? "",
    r.spec.workspace,
    [r.spec.command, ...r.spec.args].join(" ").slice(0, 40),
    r.status?.phase ?? "New",
    r.status?.exitCode === undefined ? "" : String(r.status.exitCode),
    r.status?.onBehalfOf ?? r.status?.createdBy?.username ?? "",
    age(r.metadata.creationTimestamp, now),
  ]);
  t.stdout.write(table(["NAME", "WORKSPACE", "COMMAND", "PHASE", "EXIT", "USER", "AGE"], rows));
  return 0;
}

export async function runsLogs(t: Terminal, name: string, o: KtfOptions & { follow?: boolean }): Promise<number> {
  const session = await connect(t, o, t.cwd);
  const run = await getRun(session, name);
  if (o.follow) {
    const outcome = await followRun(session.client, t, run, { interruptible: false });
    return outcome.kind === "finished" ? exitCodeOf(t, outcome.run) : 0;
  }
  if (run.status?.cloud) {
    await followCloudLog(session.client, t, run, new AbortController().signal);
    return 0;
  }
  const pod = run.status?.podName;
  if (!pod) {
    note(t, `run ${name} has no output yet (phase ${run.status?.phase ?? "New"})`);
    return 0;
  }
  if (!(await session.client.get(RESOURCES.Pod, session.namespace, pod))) {
    throw new UsageError(`the pod of run ${name} is gone, and its output with it`);
  }
  const done = new AbortController();
  const renderer = new RunLogRenderer(t, name, await loadRunKey(t.env, session.namespace, name));
  await followPodLog(session.client, { namespace: session.namespace, pod, container: "runner", follow: false }, (line) => renderer.line(line), done.signal);
  return 0;
}

export async function runsCancel(t: Terminal, name: string, o: KtfOptions): Promise<number> {
  const session = await connect(t, o, t.cwd);
  const run = await getRun(session, name);
  const phase = run.status?.phase;
  const savedInTfc = run.status?.cloud && run.spec.savePlan && phase === "Succeeded";
  if (isFinished(run) && !savedInTfc) {
    throw new UsageError(`run ${name} has already ended (${phase})`);
  }
  await session.client.patch(RESOURCES.Run, session.namespace, name, { spec: { cancel: true } });
  // A saved plan in TFC waits for confirmation and holds TFC's queue: canceling its run discards it.
  t.stdout.write(savedInTfc ? `Discarding the saved plan of run ${name} (TFC run ${run.status?.cloud?.runId}).\n` : `Canceling run ${name}; a running engine stops cleanly and releases the state lock.\n`);
  return 0;
}
