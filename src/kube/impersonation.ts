import { UsageError } from "../errors.js";

/** Whom to act as (kubeconfig's as, as-uid, as-groups, as-user-extra; kubectl's --as, --as-group). */
export interface Impersonation {
  user?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** Flags override the kubeconfig field by field, as kubectl merges them. */
export function overrideImpersonation(base: Impersonation | undefined, flags: Impersonation | undefined): Impersonation | undefined {
  if (!flags) return base;
  const merged: Impersonation = { ...base };
  if (flags.user) merged.user = flags.user;
  if (flags.uid) merged.uid = flags.uid;
  if (flags.groups?.length) merged.groups = flags.groups;
  if (flags.extra && Object.keys(flags.extra).length) merged.extra = flags.extra;
  return merged;
}

/** The headers client-go sends; like it, refuses groups, uid or extra without a user to act as. */
export function impersonationHeaders(i: Impersonation | undefined): Record<string, string | string[]> {
  if (!i) return {};
  const extra = Object.entries(i.extra ?? {});
  if (!i.user) {
    if (i.groups?.length || i.uid || extra.length) throw new UsageError("impersonation sets groups, a uid or extra fields but no user: set the user to act as (kubeconfig as, or --as)");
    return {};
  }
  const headers: Record<string, string | string[]> = { "Impersonate-User": i.user };
  if (i.uid) headers["Impersonate-Uid"] = i.uid;
  if (i.groups?.length) headers["Impersonate-Group"] = i.groups;
  for (const [key, values] of extra) headers[`Impersonate-Extra-${headerKeyEscape(key)}`] = values;
  return headers;
}

/** RFC 7230 token characters, which a header name may hold as they are. */
const TOKEN = /^[!#$&'*+\-.^_`|~0-9A-Za-z]$/;

/** client-go's headerKeyEscape: percent-encodes every byte that is not a token character, and "%". */
function headerKeyEscape(key: string): string {
  let out = "";
  for (const byte of Buffer.from(key, "utf8")) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && TOKEN.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
