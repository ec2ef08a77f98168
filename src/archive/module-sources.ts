import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError, errorMessage } from "../errors.js";

/** A `module "name" { source = "..." }` call found in a configuration file. */
export interface ModuleCall {
  name: string;
  source: string;
}

/** Terraform treats a source as a local path only when it starts like this (go-getter's rule). */
export function isLocalSource(source: string): boolean {
  return source.startsWith("./") || source.startsWith("../");
}

type Token =
  | { kind: "ident"; value: string }
  | { kind: "string"; value: string; literal: boolean }
  | { kind: "{" | "}" | "=" | "newline" | "other" };

const IDENT = /[A-Za-z_][A-Za-z0-9_-]*/y;
const HEREDOC = /<<-?([A-Za-z_][A-Za-z0-9_-]*)\r?\n/y;

/**
 * Reads the module calls of an HCL file. Not a full HCL parser: it tokenizes just enough
 * (strings with templates, comments, heredocs, braces) to find `source` attributes at the
 * top level of top-level `module` blocks, and ignores every other `source` (provisioners,
 * required_providers), which a line-based regex would mistake for modules.
 */
export function hclModuleCalls(text: string): ModuleCall[] {
  const tokens = tokenize(text);
  const calls: ModuleCall[] = [];
  let depth = 0;
  let moduleName: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t?.kind === "{") depth++;
    else if (t?.kind === "}") {
      depth = Math.max(0, depth - 1);
      if (depth === 0) moduleName = undefined;
    } else if (depth === 0 && isIdent(t, "module") && atLineStart(tokens, i)) {
      const label = tokens[i + 1];
      if (tokens[i + 2]?.kind !== "{") continue;
      if (label?.kind === "string" || label?.kind === "ident") moduleName = label.value;
    } else if (depth === 1 && moduleName !== undefined && isIdent(t, "source") && atLineStart(tokens, i)) {
      const value = tokens[i + 2];
      if (tokens[i + 1]?.kind === "=" && value?.kind === "string" && value.literal) calls.push({ name: moduleName, source: value.value });
    }
  }
  return calls;
}

function isIdent(t: Token | undefined, value: string): boolean {
  return t?.kind === "ident" && t.value === value;
}

function atLineStart(tokens: readonly Token[], i: number): boolean {
  const prev = tokens[i - 1];
  return prev === undefined || prev.kind === "newline" || prev.kind === "{";
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (c === "\n") {
      tokens.push({ kind: "newline" });
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "#" || text.startsWith("//", i)) {
      i = lineEnd(text, i);
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"') {
      const s = readString(text, i);
      tokens.push({ kind: "string", value: s.value, literal: s.literal });
      i = s.end;
    } else if (c === "{" || c === "}" || c === "=") {
      tokens.push({ kind: c });
      i++;
    } else if (text.startsWith("<<", i)) {
      i = skipHeredoc(text, i);
      tokens.push({ kind: "other" }, { kind: "newline" });
    } else {
      IDENT.lastIndex = i;
      const m = IDENT.exec(text);
      tokens.push(m ? { kind: "ident", value: m[0] } : { kind: "other" });
      i += m ? m[0].length : 1;
    }
  }
  return tokens;
}

function lineEnd(text: string, i: number): number {
  const end = text.indexOf("\n", i);
  return end < 0 ? text.length : end;
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };

/** A quoted string from its opening quote; `literal` is false when it holds a template. */
function readString(text: string, start: number): { value: string; literal: boolean; end: number } {
  let value = "";
  let literal = true;
  let i = start + 1;
  while (i < text.length) {
    const c = text[i] ?? "";
    const next = text[i + 1] ?? "";
    if (c === '"') return { value, literal, end: i + 1 };
    if (c === "\n") break;
    if (c === "\\") {
      value += ESCAPES[next] ?? next;
      i += 2;
    } else if ((c === "$" || c === "%") && next === c && text[i + 2] === "{") {
      value += `${c}{`; // `$${` is an escaped, literal `${`
      i += 3;
    } else if ((c === "$" || c === "%") && next === "{") {
      literal = false;
      i = skipTemplate(text, i + 2);
    } else {
      value += c;
      i++;
    }
  }
  return { value, literal: false, end: i };
}

/** From inside `${`, the index just past its closing brace (strings inside may hold braces). */
function skipTemplate(text: string, start: number): number {
  let depth = 1;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i = readString(text, i).end;
      continue;
    }
    if (c === "{") depth++;
    if (c === "}" && --depth === 0) return i + 1;
    i++;
  }
  return i;
}

/** From `<<EOF`, the index just past the line that closes the heredoc. */
function skipHeredoc(text: string, start: number): number {
  HEREDOC.lastIndex = start;
  const m = HEREDOC.exec(text);
  if (!m) return start + 2;
  let i = HEREDOC.lastIndex;
  while (i < text.length) {
    const end = lineEnd(text, i);
    if (text.slice(i, end).trim() === m[1]) return end;
    i = end + 1;
  }
  return text.length;
}

/**
 * The module calls of a JSON configuration file. Blocks may be objects or arrays of
 * objects at either level (`"module": {"a": {...}}`, `"module": [{"a": [{...}]}]`).
 */
export function jsonModuleCalls(config: unknown): ModuleCall[] {
  const calls: ModuleCall[] = [];
  const root = config as { module?: unknown } | null;
  for (const byName of asList(root?.module)) {
    if (typeof byName !== "object" || byName === null) continue;
    for (const [name, bodies] of Object.entries(byName)) {
      for (const body of asList(bodies)) {
        const source = (body as { source?: unknown } | null)?.source;
        if (typeof source === "string") calls.push({ name, source });
      }
    }
  }
  return calls;
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** A local module call and the file it is in, for error messages. */
export interface LocalModuleCall extends ModuleCall {
  file: string;
}

/** The local module calls in the configuration files directly in `dir` (terraform reads no subdirectories). */
export async function localModuleCalls(dir: string): Promise<LocalModuleCall[]> {
  const calls: LocalModuleCall[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.isDirectory());
  for (const name of entries.map((e) => e.name).sort()) {
    const file = join(dir, name);
    let found: ModuleCall[] = [];
    if (/\.(tf|tofu)$/.test(name)) found = hclModuleCalls(await readFile(file, "utf8"));
    else if (/\.(tf|tofu)\.json$/.test(name)) found = jsonModuleCalls(parseJson(await readFile(file, "utf8"), file));
    for (const call of found) if (isLocalSource(call.source)) calls.push({ ...call, file });
  }
  return calls;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${errorMessage(err)}`);
  }
}
