import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from "node:crypto";
import { IntegrityError } from "../errors.js";

/**
 * Output sealed to the CLI that started a run. The pod log is readable by anyone with
 * `pods/log` in the namespace, but what `output`, `state pull` or `show -json` print
 * carries the state's secrets: the runner encrypts it to a one-time public key that the
 * CLI put in the Run, and only the CLI holding the private key reads it.
 *
 * Log lines: `ktf:sealed:1:key:<ephemeral X25519 public key>` once, then
 * `ktf:sealed:1:<seq>:<o|e>:<AES-256-GCM ciphertext+tag>` per chunk of stdout or stderr,
 * then an empty sealed chunk of stream `x` that marks the end. The sequence number is the
 * nonce and, with the stream, authenticated, so chunks cannot be dropped, reordered, moved
 * between streams or cut off unseen.
 */
export const SEALED_PREFIX = "ktf:sealed:1:";
const INFO = Buffer.from("ktf sealed log v1");
/** Plaintext per line: its base64 stays under the container runtime's 16 KiB log line. */
export const SEALED_CHUNK_BYTES = 8 * 1024;

export type Stream = "o" | "e";
type Record = Stream | "x";

/** A one-time key pair: the public half goes in the Run, the private half stays with the CLI. */
export function newSealingKeys(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  return {
    publicKey: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

function streamKey(own: KeyObject, peer: KeyObject, ephemeral: Buffer, recipient: Buffer): Buffer {
  const shared = diffieHellman({ privateKey: own, publicKey: peer });
  return Buffer.from(hkdfSync("sha256", shared, Buffer.concat([ephemeral, recipient]), INFO, 32));
}

function nonce(seq: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeUIntBE(seq, 6, 6);
  return n;
}

/** The runner's side: turns output into sealed log lines. */
export class Sealer {
  private readonly key: Buffer;
  private seq = 0;
  readonly header: string;

  constructor(recipientPublicKey: string) {
    const recipient = Buffer.from(recipientPublicKey, "base64");
    const peer = createPublicKey({ key: recipient, format: "der", type: "spki" });
    if (peer.asymmetricKeyType !== "x25519") throw new IntegrityError("the run's output key is not an X25519 public key");
    const ephemeral = generateKeyPairSync("x25519");
    const ephemeralDer = ephemeral.publicKey.export({ type: "spki", format: "der" });
    this.key = streamKey(ephemeral.privateKey, peer, ephemeralDer, recipient);
    this.header = `${SEALED_PREFIX}key:${ephemeralDer.toString("base64")}`;
  }

  /** Sealed lines for these bytes of one stream (several when they are long). */
  seal(stream: Stream, bytes: Buffer): string[] {
    const lines: string[] = [];
    for (let offset = 0; offset < bytes.length; offset += SEALED_CHUNK_BYTES) lines.push(this.record(stream, bytes.subarray(offset, offset + SEALED_CHUNK_BYTES)));
    return lines;
  }

  /** The last line: without it the reader knows the output was cut off. */
  end(): string {
    return this.record("x", Buffer.alloc(0));
  }

  private record(kind: Record, bytes: Buffer): string {
    const seq = this.seq++;
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce(seq));
    cipher.setAAD(Buffer.from(`${seq}:${kind}`));
    const sealed = Buffer.concat([cipher.update(bytes), cipher.final(), cipher.getAuthTag()]);
    return `${SEALED_PREFIX}${seq}:${kind}:${sealed.toString("base64")}`;
  }
}

export type Unsealed = { kind: "data"; stream: Stream; bytes: Buffer } | { kind: "end" } | { kind: "none" };

/** The CLI's side: reads sealed lines with the private key it kept. */
export class Unsealer {
  private key?: Buffer;
  private next = 0;
  private readonly privateKey: KeyObject;

  constructor(privateKeyPem: string) {
    this.privateKey = createPrivateKey(privateKeyPem);
  }

  /** One sealed log line; throws IntegrityError on a line that was changed, dropped or reordered. */
  open(line: string): Unsealed {
    const rest = line.slice(SEALED_PREFIX.length);
    if (rest.startsWith("key:")) {
      const ephemeral = Buffer.from(rest.slice(4), "base64");
      const recipient = createPublicKey(this.privateKey).export({ type: "spki", format: "der" });
      this.key = streamKey(this.privateKey, createPublicKey({ key: ephemeral, format: "der", type: "spki" }), ephemeral, recipient);
      this.next = 0;
      return { kind: "none" };
    }
    const [seqText, stream, data] = rest.split(":");
    const seq = Number(seqText);
    if (!this.key || (stream !== "o" && stream !== "e" && stream !== "x") || data === undefined) throw new IntegrityError("a sealed output line is malformed or came before its key");
    if (seq !== this.next) throw new IntegrityError(`sealed output chunk ${seq} arrived where ${this.next} was due`);
    const sealed = Buffer.from(data, "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.key, nonce(seq));
    decipher.setAAD(Buffer.from(`${seq}:${stream}`));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    try {
      const bytes = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
      this.next++;
      return stream === "x" ? { kind: "end" } : { kind: "data", stream, bytes };
    } catch {
      throw new IntegrityError(`sealed output chunk ${seq} does not authenticate: it was changed`);
    }
  }
}

export function isSealedLine(line: string): boolean {
  return line.startsWith(SEALED_PREFIX);
}

