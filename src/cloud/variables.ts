import { createHmac } from "node:crypto";

/**
 * A TFC workspace's variables, kept as the Workspace's spec says: spec.variables are
 * terraform variables, spec.env environment variables. TFC never returns a sensitive
 * value, so what the operator set is remembered as an HMAC keyed by the API token (kept in
 * status: it says whether a value changed, and nobody without the token can test guesses
 * against it). A variable not in the spec is removed.
 */
export type VariableCategory = "terraform" | "env";

export interface DesiredVariable {
  key: string;
  category: VariableCategory;
  value: string;
  hcl: boolean;
  sensitive: boolean;
}

/** As TFC lists it; `value` is absent for a sensitive one. */
export interface ActualVariable {
  id: string;
  key: string;
  category: VariableCategory;
  value?: string | null;
  hcl: boolean;
  sensitive: boolean;
}

export interface VariableChanges {
  create: DesiredVariable[];
  /**
   * `patch` is what to send: the value, and a flag only when it changes (servers refuse to
   * "change" a sensitive variable's key or HCL mode, even to what it is). `recreate`: a
   * sensitive variable is never made plain or HCL again, so it is deleted and created.
   */
  update: { id: string; variable: DesiredVariable; editedInCloud: boolean; recreate: boolean; patch: { value: string; hcl?: boolean; sensitive?: boolean } }[];
  remove: ActualVariable[];
  /** What status keeps once the changes are made: variableKey -> HMAC. */
  hashes: Record<string, string>;
}

export function variableKey(v: { category: VariableCategory; key: string }): string {
  return `${v.category}:${v.key}`;
}

export function variableHash(token: string, v: DesiredVariable): string {
  return createHmac("sha256", token).update(JSON.stringify([v.category, v.key, v.value, v.hcl, v.sensitive])).digest("hex");
}

/** The calls that make TFC's variables what the spec says, given what the operator set last time. */
export function variableChanges(desired: readonly DesiredVariable[], actual: readonly ActualVariable[], known: Readonly<Record<string, string>>, token: string): VariableChanges {
  const present = new Map(actual.map((a) => [variableKey(a), a]));
  const wanted = new Set(desired.map(variableKey));
  const changes: VariableChanges = { create: [], update: [], remove: actual.filter((a) => !wanted.has(variableKey(a))), hashes: {} };
  for (const v of desired) {
    const id = variableKey(v);
    const hash = variableHash(token, v);
    changes.hashes[id] = hash;
    const a = present.get(id);
    if (!a) {
      changes.create.push(v);
      continue;
    }
    const flagsDiffer = a.hcl !== v.hcl || a.sensitive !== v.sensitive;
    // A sensitive value cannot be read back: it changed if the spec's did since it was set.
    const valueDiffers = a.sensitive ? known[id] !== hash : (a.value ?? "") !== v.value;
    if (!flagsDiffer && !valueDiffers) continue;
    const patch = { value: v.value, ...(a.hcl !== v.hcl ? { hcl: v.hcl } : {}), ...(a.sensitive !== v.sensitive ? { sensitive: v.sensitive } : {}) };
    changes.update.push({ id: a.id, variable: v, editedInCloud: known[id] === hash, recreate: a.sensitive && (!v.sensitive || a.hcl !== v.hcl), patch });
  }
  return changes;
}
