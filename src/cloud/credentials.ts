import { readFile } from "node:fs/promises";
import { CliConfigError } from "../errors.js";
import { parseHclBody, type HclItem } from "./hcl-body.js";

/**
 * The API tokens of a terraform CLI configuration: its `credentials "HOST" { token = "..." }`
 * blocks (HCL), or the `{"credentials": {"HOST": {"token": "..."}}}` of credentials.tfrc.json.
 * Everything else in the file (provider_installation, host, plugin_cache_dir...) is read
 * past. Hosts compare as terraform compares them: case-insensitively, :443 dropped.
 */
export class CliCredentials {
  private constructor(private readonly tokens: ReadonlyMap<string, string>) {}

  static parse(text: string, file: string): CliCredentials {
    const json = file.endsWith(".json") || text.trimStart().startsWith("{");
    return new CliCredentials(json ? fromJson(text, file) : fromHcl(text, file));
  }

  static async load(file: string): Promise<CliCredentials> {
    return CliCredentials.parse(await readFile(file, "utf8"), file);
  }

  tokenFor(host: string): string | undefined {
    return this.tokens.get(comparableHost(host));
  }

  /** The hosts that have a token, as compared. */
  get hosts(): string[] {
    return [...this.tokens.keys()];
  }
}

/** A hostname as terraform's svchost compares it: lower case, the default HTTPS port dropped. */
export function comparableHost(host: string): string {
  return host.trim().toLowerCase().replace(/:443$/, "");
}

function checkedHost(file: string, line: number, label: string): string {
  const host = comparableHost(label);
  if (!/^[\p{L}\p{N}.-]+(:[0-9]{1,5})?$/u.test(host)) {
    throw new CliConfigError(file, line, `a credentials block's label must be a hostname such as "app.terraform.io" (optionally with :port)`);
  }
  return host;
}

function fromHcl(text: string, file: string): Map<string, string> {
  const tokens = new Map<string, string>();
  const lines = new Map<string, number>();
  for (const item of parseHclBody(text, file)) {
    if (item.kind !== "block" || item.type !== "credentials") continue;
    if (item.labels.length !== 1) {
      throw new CliConfigError(file, item.line, `a credentials block needs one label, its hostname, as in credentials "app.terraform.io" { token = "..." }`);
    }
    const host = checkedHost(file, item.line, item.labels[0] ?? "");
    const first = lines.get(host);
    if (first !== undefined) throw new CliConfigError(file, item.line, `a second credentials block for ${host} (the first is on line ${first})`);
    lines.set(host, item.line);
    tokens.set(host, hclToken(item.body, file, item.line, host));
  }
  return tokens;
}

function hclToken(body: HclItem[], file: string, line: number, host: string): string {
  const token = body.find((i) => i.kind === "attribute" && i.name === "token");
  if (token?.kind !== "attribute") throw new CliConfigError(file, line, `credentials "${host}" has no token = "..." attribute`);
  if (token.value.kind !== "string") {
    throw new CliConfigError(file, token.line, `the token of credentials "${host}" must be one quoted string, without interpolation`);
  }
  if (!token.value.value) throw new CliConfigError(file, token.line, `the token of credentials "${host}" is empty`);
  return token.value.value;
}

function fromJson(text: string, file: string): Map<string, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw jsonError(text, file, err);
  }
  if (!isObject(doc)) throw new CliConfigError(file, 0, 'expected a JSON object such as {"credentials": {"app.terraform.io": {"token": "..."}}}');
  const credentials = doc.credentials;
  const tokens = new Map<string, string>();
  if (credentials === undefined) return tokens;
  if (!isObject(credentials)) throw new CliConfigError(file, 0, '"credentials" must be an object of hostnames, as in {"credentials": {"app.terraform.io": {"token": "..."}}}');
  for (const [label, value] of Object.entries(credentials)) {
    const host = checkedHost(file, 0, label);
    // HCL's JSON form may also give a block as an array of one object.
    const entry: unknown = Array.isArray(value) && value.length === 1 ? value[0] : value;
    const token = isObject(entry) ? entry.token : undefined;
    if (typeof token !== "string" || !token) {
      throw new CliConfigError(file, 0, `credentials["${host}"] must be an object with a non-empty string "token"`);
    }
    if (tokens.has(host)) throw new CliConfigError(file, 0, `two credentials entries for ${host}`);
    tokens.set(host, token);
  }
  return tokens;
}

/** Some of V8's messages quote the text around the error: those keep only its position. */
function jsonError(text: string, file: string, err: unknown): CliConfigError {
  const message = err instanceof Error ? err.message : "";
  const m = /^(.*?) in JSON at position (\d+)/.exec(message);
  const line = m ? text.slice(0, Number(m[2])).split("\n").length : 0;
  const what = m?.[1] && !m[1].includes('"') ? m[1] : message === "Unexpected end of JSON input" ? "the JSON ends too soon" : "not valid JSON";
  return new CliConfigError(file, line, what);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
