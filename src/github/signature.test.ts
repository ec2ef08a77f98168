import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signPayload, signatureProblem, verifySignature } from "./signature.js";

const secret = "It's a Secret to Everybody";
const body = "Hello, World!";

describe("webhook signatures", () => {
  it("matches GitHub's documented example", () => {
    // The example in GitHub's "Validating webhook deliveries" documentation.
    expect(signPayload(secret, body)).toBe("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  });

  it.each([
    ["right", signPayload(secret, body), undefined],
    ["right, upper-case hex", signPayload(secret, body).toUpperCase().replace("SHA256=", "sha256="), undefined],
    ["missing", undefined, "missing"],
    ["empty", "", "missing"],
    ["another secret", signPayload("another secret", body), "does not match"],
    ["another body", signPayload(secret, body + " "), "does not match"],
    ["too short", signPayload(secret, body).slice(0, -2), "not sha256=<hex>"],
    ["too long", signPayload(secret, body) + "00", "not sha256=<hex>"],
    ["not hex", "sha256=" + "z".repeat(64), "not sha256=<hex>"],
    ["SHA-1 (X-Hub-Signature)", "sha1=" + createHmac("sha1", secret).update(body).digest("hex"), "not sha256=<hex>"],
    ["SHA-512 digest under sha256=", "sha256=" + createHmac("sha512", secret).update(body).digest("hex"), "not sha256=<hex>"],
    ["no prefix", createHmac("sha256", secret).update(body).digest("hex"), "not sha256=<hex>"],
  ])("%s", (_name, header, problem) => {
    expect(signatureProblem(secret, body, header)).toBe(problem);
    expect(verifySignature(secret, body, header)).toBe(problem === undefined);
  });

  it("signs the exact bytes, not a re-encoding", () => {
    const bytes = Buffer.from('{"a":"é"}', "utf8");
    expect(verifySignature(secret, bytes, signPayload(secret, bytes))).toBe(true);
    expect(verifySignature(secret, Buffer.from('{"a": "é"}'), signPayload(secret, bytes))).toBe(false);
  });
});
