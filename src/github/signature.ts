import { createHmac, timingSafeEqual } from "node:crypto";

/** The header GitHub signs every delivery with (the SHA-1 `X-Hub-Signature` is not accepted). */
export const SIGNATURE_HEADER = "x-hub-signature-256";

const PREFIX = "sha256=";
const HEX_DIGEST = /^[0-9a-f]{64}$/i;

/** `sha256=<hex>`: the HMAC-SHA256 of the exact bytes of `body`, as GitHub sends it. */
export function signPayload(secret: string, body: string | Buffer): string {
  return PREFIX + createHmac("sha256", secret).update(body).digest("hex");
}

/**
 * Why `header` is not a valid signature of `body` under `secret`, or undefined when it is.
 * The reason is for logs ("missing", "not sha256=<hex>", "does not match"): it never holds
 * the secret or the expected digest.
 */
export function signatureProblem(secret: string, body: string | Buffer, header: string | undefined): string | undefined {
  if (header === undefined || header === "") return "missing";
  if (!header.startsWith(PREFIX)) return "not sha256=<hex>";
  const given = header.slice(PREFIX.length);
  if (!HEX_DIGEST.test(given)) return "not sha256=<hex>";
  const expected = createHmac("sha256", secret).update(body).digest();
  const actual = Buffer.from(given, "hex");
  // timingSafeEqual throws on a length mismatch; the regex already fixed the length, checked again for safety.
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return "does not match";
  return undefined;
}

/** True when `header` is GitHub's signature of `body` under `secret`; compared in constant time. */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  return signatureProblem(secret, body, header) === undefined;
}
