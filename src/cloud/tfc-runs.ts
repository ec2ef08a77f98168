import { parseOrThrow } from "../api/validate.js";
import { isCloudApiError, KtfError } from "../errors.js";
import {
  applyResource, configurationVersionResource, isFinalRunStatus, list, planResource, runResource, single, stateOutputResource,
  stateVersionResource, toConfigurationVersion, toPhase, toRun, toStateOutput,
  type ConfigurationVersion, type Phase, type Run, type StateOutput,
} from "./tfc-resources.js";
import { unlessNotFound, type TfcTransport } from "./tfc-transport.js";

const seg = encodeURIComponent;

export interface PollOptions {
  intervalMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Asks `get` every interval until `done` says yes; a count of polls, so no clock is needed. */
async function poll<T>(t: TfcTransport, get: () => Promise<T>, done: (v: T) => boolean, what: (v: T) => string, o: PollOptions): Promise<T> {
  const interval = o.intervalMs ?? 1000;
  const polls = Math.max(1, Math.ceil((o.timeoutMs ?? 600_000) / interval));
  for (let i = 0; ; i++) {
    const v = await get();
    if (done(v) || o.signal?.aborted) return v;
    if (i >= polls) throw new KtfError(`${what(v)} after ${Math.round((polls * interval) / 1000)} s on ${t.host}; see it there`);
    await t.pause(interval, o.signal);
  }
}

export class ConfigurationVersions {
  constructor(private readonly t: TfcTransport) {}

  /** A configuration version to upload to; by default it queues no run of its own. */
  async create(workspaceId: string, options: { autoQueueRuns?: boolean; speculative?: boolean } = {}): Promise<ConfigurationVersion> {
    const doc = await this.t.call("POST", `/workspaces/${seg(workspaceId)}/configuration-versions`, single(configurationVersionResource), {
      body: { data: { type: "configuration-versions", attributes: { "auto-queue-runs": options.autoQueueRuns ?? false, speculative: options.speculative ?? false } } },
    });
    return toConfigurationVersion(doc.data);
  }

  async get(id: string): Promise<ConfigurationVersion> {
    return toConfigurationVersion((await this.t.call("GET", `/configuration-versions/${seg(id)}`, single(configurationVersionResource))).data);
  }

  /** PUTs a gzipped tar to the version's upload-url (signed: no token sent). */
  async upload(cv: ConfigurationVersion, archive: Uint8Array): Promise<void> {
    if (!cv.uploadUrl) throw new KtfError(`configuration version ${cv.id} on ${this.t.host} has no upload-url: it was uploaded already`);
    const response = await this.t.signed(cv.uploadUrl, {
      method: "PUT",
      headers: { "Content-Type": "application/octet-stream" },
      body: archive,
    }, `upload-url of ${cv.id}`, 600_000);
    await response.body?.cancel();
  }

  /** Waits until the server has taken in the upload (TFC does so asynchronously). */
  async waitUploaded(id: string, options: PollOptions = {}): Promise<ConfigurationVersion> {
    const cv = await poll(this.t, () => this.get(id), (v) => v.status !== "pending", (v) => `configuration version ${id} is still ${v.status}`, { intervalMs: 500, timeoutMs: 120_000, ...options });
    if (cv.status !== "uploaded") throw new KtfError(`configuration version ${id} on ${this.t.host} is ${cv.status}, not uploaded`);
    return cv;
  }
}

export interface RunSettings {
  workspaceId: string;
  /** The workspace's latest configuration version unless given. */
  configurationVersionId?: string;
  message?: string;
  isDestroy?: boolean;
  /** Overrides the workspace's auto-apply for this run. */
  autoApply?: boolean;
  planOnly?: boolean;
  refresh?: boolean;
  targetAddrs?: readonly string[];
  replaceAddrs?: readonly string[];
}

export class Runs {
  constructor(private readonly t: TfcTransport) {}

  async create(s: RunSettings): Promise<Run> {
    const relationships: Record<string, unknown> = { workspace: { data: { type: "workspaces", id: s.workspaceId } } };
    if (s.configurationVersionId) relationships["configuration-version"] = { data: { type: "configuration-versions", id: s.configurationVersionId } };
    const attributes = {
      message: s.message,
      "is-destroy": s.isDestroy,
      "auto-apply": s.autoApply,
      "plan-only": s.planOnly,
      refresh: s.refresh,
      "target-addrs": s.targetAddrs,
      "replace-addrs": s.replaceAddrs,
    };
    const doc = await this.t.call("POST", "/runs", single(runResource), { body: { data: { type: "runs", attributes, relationships } } });
    return toRun(doc.data);
  }

  async get(id: string): Promise<Run> {
    return toRun((await this.t.call("GET", `/runs/${seg(id)}`, single(runResource))).data);
  }

  /** The workspace's most recent runs, newest first (one page). */
  async list(workspaceId: string, pageSize = 20): Promise<Run[]> {
    const doc = await this.t.call("GET", `/workspaces/${seg(workspaceId)}/runs`, list(runResource), { query: { "page[size]": pageSize } });
    return doc.data.map(toRun);
  }

  /** Confirms a planned run. */
  async apply(id: string, comment?: string): Promise<void> {
    await this.action(id, "apply", comment);
  }

  async cancel(id: string, comment?: string): Promise<void> {
    await this.action(id, "cancel", comment);
  }

  async forceCancel(id: string, comment?: string): Promise<void> {
    await this.action(id, "force-cancel", comment);
  }

  async discard(id: string, comment?: string): Promise<void> {
    await this.action(id, "discard", comment);
  }

  /** Polls the run until `done` says yes or its status is final. */
  async waitFor(id: string, done: (run: Run) => boolean, options: PollOptions = {}): Promise<Run> {
    return poll(this.t, () => this.get(id), (r) => done(r) || isFinalRunStatus(r.status), (r) => `run ${id} is still ${r.status}`, options);
  }

  private async action(id: string, action: string, comment?: string): Promise<void> {
    await this.t.call("POST", `/runs/${seg(id)}/actions/${action}`, undefined, { body: comment === undefined ? {} : { comment } });
  }
}

export class Plans {
  constructor(private readonly t: TfcTransport) {}

  async get(id: string): Promise<Phase> {
    return toPhase((await this.t.call("GET", `/plans/${seg(id)}`, single(planResource))).data);
  }
}

export class Applies {
  constructor(private readonly t: TfcTransport) {}

  async get(id: string): Promise<Phase> {
    return toPhase((await this.t.call("GET", `/applies/${seg(id)}`, single(applyResource))).data);
  }
}

export interface StateVersion {
  id: string;
  serial: number;
  /** False while TFC has not yet read the outputs out of the state. */
  resourcesProcessed: boolean;
  outputs: StateOutput[];
}

export class StateVersions {
  constructor(private readonly t: TfcTransport) {}

  /** The workspace's current state with its outputs, or undefined when it has none. */
  async current(workspaceId: string): Promise<StateVersion | undefined> {
    const path = `/workspaces/${seg(workspaceId)}/current-state-version`;
    const doc = await unlessNotFound(this.t.call("GET", path, single(stateVersionResource), { query: { include: "outputs" } }));
    if (!doc) return undefined;
    const outputs = (doc.included ?? [])
      .filter((r) => (r as { type?: unknown }).type === "state-version-outputs")
      .map((r, i) => toStateOutput(parseOrThrow(stateOutputResource, r, `answer of ${this.t.host} to GET ${path}`, ["included", i])));
    const a = doc.data.attributes;
    return { id: doc.data.id, serial: a.serial, resourcesProcessed: a["resources-processed"] ?? true, outputs };
  }

  /** One output, with its value even when sensitive. */
  async output(id: string): Promise<StateOutput> {
    return toStateOutput((await this.t.call("GET", `/state-version-outputs/${seg(id)}`, single(stateOutputResource))).data);
  }
}

const STX = 0x02;
const ETX = 0x03;
const LOG_CHUNK = 1 << 20;

export interface FollowOptions {
  /** Asked when no new bytes came: true once the phase has ended and its log is whole. */
  finished: () => Promise<boolean>;
  /**
   * Asked when the URL is refused (401/403: a signed URL is good for a limited time, an hour
   * on OTF): a newer URL of the same log, read on from where the old one stopped.
   */
  refresh?: () => Promise<string | undefined>;
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * A plan's or apply's log from its log-read-url (signed: no token). TFC marks its start
 * with STX and its end with ETX; both are left out of what is returned.
 */
export class Logs {
  constructor(private readonly t: TfcTransport) {}

  /** The log's bytes from `offset` on, as far as written; nothing yet is an empty array. */
  async read(url: string, offset = 0): Promise<Uint8Array> {
    const u = new URL(url, `${this.t.baseUrl}/`);
    u.searchParams.set("offset", String(offset));
    u.searchParams.set("limit", String(LOG_CHUNK));
    try {
      const response = await this.t.signed(u.toString(), { method: "GET" }, "log-read-url");
      return new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      // A phase that has not started has no log yet (OTF answers 404).
      if (isCloudApiError(err, 404)) return new Uint8Array();
      throw err;
    }
  }

  /** The whole log as text, once the phase has ended. */
  async text(url: string): Promise<string> {
    let out = "";
    for await (const chunk of this.follow(url, { finished: () => Promise.resolve(true) })) out += chunk;
    return out;
  }

  /** The log as it is written, until ETX or until the phase has ended and nothing more came. */
  async *follow(url: string, options: FollowOptions): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    let offset = 0;
    let ended = false;
    while (!options.signal?.aborted) {
      let bytes: Uint8Array;
      try {
        bytes = await this.read(url, offset);
      } catch (err) {
        const expired = isCloudApiError(err, 401) || isCloudApiError(err, 403);
        const newer = expired ? await options.refresh?.() : undefined;
        if (!newer || newer === url) throw err;
        url = newer;
        continue;
      }
      if (bytes.length) {
        const start = offset === 0 && bytes[0] === STX ? 1 : 0;
        offset += bytes.length;
        const last = bytes[bytes.length - 1] === ETX;
        const text = decoder.decode(bytes.subarray(start, last ? -1 : undefined), { stream: !last });
        if (text) yield text;
        if (last) return;
        continue;
      }
      if (ended) break;
      // Bytes may be written between the last read and the phase's end: read once more.
      if (await options.finished()) ended = true;
      else await this.t.pause(options.intervalMs ?? 1000, options.signal);
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }
}
