import { isFinished, type Run } from "../api/run.js";
import { FINAL_PHASE_STATUSES, signedLogs, type Fetch } from "../cloud/tfc-client.js";
import type { KubeClient } from "../kube/client.js";
import { isCloudApiError, KtfError } from "../errors.js";
import { colorsFor, stripAnsi, type Terminal } from "./output/terminal.js";
import { watchRun } from "./watch-run.js";

const PHASES = ["plan", "apply"] as const;
type CloudPhase = (typeof PHASES)[number];

const logUrl = (run: Run, phase: CloudPhase) => run.status?.cloud?.[phase]?.logUrl;
/** The phase's log is whole: it ended in TFC, or the run did. */
const phaseEnded = (run: Run, phase: CloudPhase) => isFinished(run) || FINAL_PHASE_STATUSES.has(run.status?.cloud?.[phase]?.status ?? "");

/**
 * The output of a run of a TFC workspace, as TFC writes it: the plan's log, then the apply's,
 * read from the signed log URLs the operator put in the Run's status (this CLI holds no TFC
 * token). Resolves when both logs that the run has are whole, or the signal aborts.
 */
export async function followCloudLog(client: KubeClient, t: Terminal, run: Run, signal: AbortSignal, fetch: Fetch = globalThis.fetch): Promise<void> {
  const ns = run.metadata.namespace ?? "";
  const name = run.metadata.name ?? "";
  // TFC's logs are coloured; without colour, whole lines are cleaned (an escape may span two reads).
  const plain = !colorsFor(t, "stdout") || run.spec.args.includes("-no-color");
  let pending = "";
  const write = (text: string, last = false) => {
    if (!plain) return void t.stdout.write(text);
    pending += text;
    const end = last ? pending.length : pending.lastIndexOf("\n") + 1;
    if (end > 0) t.stdout.write(stripAnsi(pending.slice(0, end)));
    pending = pending.slice(end);
  };
  for (const [i, phase] of PHASES.entries()) {
    const later = PHASES.slice(i + 1);
    // A phase with no log by the time a later one has one, or the run ended, has none to show.
    const current = await watchRun(client, ns, name, (r) => Boolean(logUrl(r, phase)) || later.some((p) => logUrl(r, p)) || isFinished(r), signal);
    const url = logUrl(current, phase);
    if (!url || signal.aborted) continue;
    const now = () => watchRun(client, ns, name, () => true, signal);
    const finished = async () => phaseEnded(await now(), phase);
    // The operator puts a fresh URL in status each time it looks at a run that is not over.
    const refresh = async () => logUrl(await now(), phase);
    try {
      for await (const text of signedLogs(fetch, url).follow(url, { finished, refresh, signal })) write(text);
      write("", true);
    } catch (err) {
      // A signed URL is good for a limited time; the answer to an old one is a 401 or 403.
      if (isCloudApiError(err, 401) || isCloudApiError(err, 403)) {
        throw new KtfError(`the ${phase} log of run ${name} (TFC run ${current.status?.cloud?.runId}) can no longer be read: TFC's log URL has expired (the run ended more than its lifetime ago); see the run in TFC`, { cause: err });
      }
      throw err;
    }
  }
}
