import type { Run } from "../api/run.js";
import { runSchema } from "../api/run.js";
import { LABELS } from "../api/group.js";
import type { Fetch } from "../cloud/tfc-client.js";
import { errorMessage } from "../errors.js";
import { Informer } from "../kube/informer.js";
import { RESOURCES } from "../kube/resources.js";
import { reportRun } from "./check-reporter.js";
import { splitRepository, type GitHubContext } from "./context.js";
import { DeliveryQueue } from "./delivery-queue.js";
import { parseEvent, type GitHubEvent, type LinkedPull, type WorkspaceRef } from "./events.js";
import { applyPull } from "./pull-apply.js";
import { AUTOMATIC, planPull } from "./pull-plans.js";
import type { Delivery } from "./receiver.js";

/** How often deliveries left behind (a restart, a full queue) are looked for. */
const RESUME_MS = 60_000;
/** A delivery that failed this many times is let go (GitHub or the cluster says no, each time). */
const MAX_ATTEMPTS = 5;

/**
 * What `ktf github serve` does with GitHub's deliveries: keeps each one it acts on (the
 * delivery queue) before acknowledging it, handles it (plan, apply, reply), and reports the
 * Runs it made back to their check runs as they go. A receiver that restarts picks up the
 * deliveries it had not finished and reports what it had not told.
 */
export class GitHubService {
  private readonly queue: DeliveryQueue;
  private readonly informers: Informer<Run>[];
  /** Deliveries being acted on. */
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, number>();
  /** The last delivery queued for each pull request (see dispatch). */
  private readonly pulls = new Map<string, Promise<void>>();
  /** Runs being reported, and those that changed meanwhile. */
  private readonly reporting = new Set<string>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly c: GitHubContext & { fetch?: Fetch },
    ownNamespace: string,
  ) {
    this.queue = new DeliveryQueue(c.kube, ownNamespace);
    const namespaces = c.namespaces.length ? c.namespaces : [undefined];
    this.informers = namespaces.map((namespace) => new Informer<Run>(c.kube, RESOURCES.Run, { ...(namespace ? { namespace } : {}), labelSelector: `${LABELS.github}=true`, resyncMs: 300_000, log: c.log }));
  }

  /** For the receiver: keep the delivery if ktf acts on it. */
  async record(d: Delivery): Promise<"new" | "known" | "ignored"> {
    const event = parseEvent(d.event, d.payload);
    if (event.kind === "ignored") {
      this.c.log.debug({ delivery: d.delivery, reason: event.reason }, "Ignored a GitHub delivery");
      return "ignored";
    }
    return this.queue.record(d.delivery, event);
  }

  /** For the receiver's queue: act on a kept delivery, then let it go. */
  async handle(d: Delivery): Promise<void> {
    await this.run(d.delivery, parseEvent(d.event, d.payload));
  }

  async start(): Promise<void> {
    for (const informer of this.informers) {
      informer.on({ upsert: (raw) => this.report(raw) });
      await informer.start();
    }
    await this.resume();
    this.timer = setInterval(() => void this.resume(), RESUME_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** The deliveries kept and not finished: a receiver that stopped, or a queue that was full. */
  async resume(): Promise<void> {
    try {
      for (const { id, event } of await this.queue.pending()) if (!this.inFlight.has(id)) await this.run(id, event).catch(() => undefined);
    } catch (err) {
      this.c.log.warn({ err: errorMessage(err) }, "Could not look for GitHub deliveries left to handle");
    }
  }

  private async run(id: string, event: GitHubEvent): Promise<void> {
    if (this.inFlight.has(id)) return;
    this.inFlight.add(id);
    try {
      await this.dispatch(id, event);
      await this.queue.done(id);
      this.failures.delete(id);
    } catch (err) {
      const attempts = (this.failures.get(id) ?? 0) + 1;
      this.failures.set(id, attempts);
      const givingUp = attempts >= MAX_ATTEMPTS;
      this.c.log.error({ delivery: id, kind: event.kind, attempts, err: errorMessage(err) }, givingUp ? "Acting on a GitHub delivery failed; it is let go" : "Acting on a GitHub delivery failed; it is tried again");
      if (givingUp) {
        this.failures.delete(id);
        await this.queue.done(id);
      }
      throw err;
    } finally {
      this.inFlight.delete(id);
    }
  }

  /**
   * One delivery at a time per pull request: a push sends pull_request and check_suite
   * together, and both must find the plan the other made rather than race to make it.
   */
  private async dispatch(delivery: string, e: GitHubEvent): Promise<void> {
    const key = pullKey(e);
    if (!key) return this.act(delivery, e);
    const before = this.pulls.get(key) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(() => this.act(delivery, e));
    this.pulls.set(key, mine);
    try {
      await mine;
    } finally {
      if (this.pulls.get(key) === mine) this.pulls.delete(key);
    }
  }

  private async act(delivery: string, e: GitHubEvent): Promise<void> {
    const c = this.c;
    switch (e.kind) {
      case "pull-request":
        return planPull(c, { repository: e.repository, installationId: e.installationId, number: e.number, sender: e.sender, delivery: AUTOMATIC });
      case "check-suite": {
        // "requested" comes with every push, beside the pull_request event: both plan the head once (AUTOMATIC).
        const key = e.action === "requested" ? AUTOMATIC : delivery;
        for (const pr of samePulls(e.pullRequests, e.headSha)) await planPull(c, { repository: e.repository, installationId: e.installationId, number: pr.number, sender: e.sender, delivery: key });
        return;
      }
      case "check-run-rerequested": {
        const workspace = await this.workspaceOfCheck(e.externalId);
        for (const pr of samePulls(e.pullRequests, e.headSha)) await planPull(c, { repository: e.repository, installationId: e.installationId, number: pr.number, sender: e.sender, delivery, ...(workspace ? { workspace } : {}) });
        return;
      }
      case "check-run-action": {
        if (e.identifier !== "apply") return;
        const planRun = runRef(e.externalId);
        for (const pr of e.pullRequests) await applyPull(c, { repository: e.repository, installationId: e.installationId, number: pr.number, sender: e.sender, delivery, ...(planRun ? { planRun } : {}) });
        return;
      }
      case "comment-command": {
        const r = { repository: e.repository, installationId: e.installationId, number: e.number, sender: e.sender, delivery, ...(e.workspace ? { workspace: e.workspace } : {}) };
        return e.command === "plan" ? planPull(c, { ...r, byComment: true }) : applyPull(c, r);
      }
      case "comment-error": {
        const [owner, repo] = splitRepository(e.repository);
        await c.app.forInstallation(e.installationId).createIssueComment(owner, repo, e.number, `@${e.sender} ${e.reply}`);
        return;
      }
      case "ignored":
        return;
    }
  }

  /** The workspace of the Run a check run was made for (its external_id, namespace/name). */
  private async workspaceOfCheck(externalId: string | undefined): Promise<WorkspaceRef | undefined> {
    const ref = runRef(externalId);
    if (!ref) return undefined;
    const raw = await this.c.kube.get(RESOURCES.Run, ref.namespace, ref.name);
    return raw ? { namespace: ref.namespace, name: runSchema.parse(raw).spec.workspace } : undefined;
  }

  /** One report at a time per Run; a change meanwhile is reported after it. */
  private report(raw: Run): void {
    const key = `${raw.metadata.namespace}/${raw.metadata.name}`;
    if (this.reporting.has(key)) return void this.dirty.add(key);
    this.reporting.add(key);
    const parsed = runSchema.safeParse(raw);
    const done = parsed.success ? reportRun(this.c, parsed.data) : Promise.resolve();
    void done
      .catch((err: unknown) => this.c.log.warn({ namespace: raw.metadata.namespace, name: raw.metadata.name, err: errorMessage(err) }, "Could not report a run to GitHub; the next resync tries again"))
      .finally(() => {
        this.reporting.delete(key);
        if (this.dirty.delete(key)) {
          const now = this.informers.map((i) => i.get(raw.metadata.namespace, raw.metadata.name ?? "")).find(Boolean);
          if (now) this.report(now);
        }
      });
  }
}

/** A check run's external_id, "namespace/name", as a Run's reference; a fork notice's ("fork:...") is none. */
function runRef(externalId: string | undefined): WorkspaceRef | undefined {
  const [namespace, name, ...rest] = (externalId ?? "").split("/");
  return namespace && name && !rest.length && !namespace.includes(":") ? { namespace, name } : undefined;
}

/** "owner/repo#n" of the one PR an event is about; undefined for none or several. */
function pullKey(e: GitHubEvent): string | undefined {
  if (e.kind === "ignored") return undefined;
  const numbers = e.kind === "pull-request" || e.kind === "comment-command" || e.kind === "comment-error" ? [e.number] : e.pullRequests.map((p) => p.number);
  return numbers.length === 1 ? `${e.repository.toLowerCase()}#${numbers[0]}` : undefined;
}

/** The PRs whose head is this commit (a check suite lists PRs of any head). */
function samePulls(pulls: readonly LinkedPull[], sha: string): LinkedPull[] {
  return pulls.filter((p) => p.headSha === sha);
}
