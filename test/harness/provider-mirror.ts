import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { isIP, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, relative, resolve, sep } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface ProviderMirrorOptions {
  /** A mirror directory, as scripts/build-provider.sh prints it. */
  dir: string;
  /** 127.0.0.1 unless the engine runs elsewhere (a run pod reaches the node's address). */
  host?: string;
  port?: number;
  /** More names or addresses the certificate is valid for (the host always is). */
  altNames?: string[];
  /** Keep the CA and certificate here, reused across restarts (the demo's); a fresh temporary one otherwise. */
  certDir?: string;
}

/**
 * A provider network mirror (HOST/NAMESPACE/TYPE/index.json, VERSION.json, the zips) over
 * HTTPS, which the engines require of a network_mirror, with a certificate from a CA of its
 * own. An engine trusts it only when given `caFile`: Go on Linux reads SSL_CERT_FILE, which
 * then replaces the system's roots. Requests are counted per path, so a test can tell that
 * a second init downloaded nothing. It serves from this process's event loop: run the
 * engine with an async spawn, never execFileSync.
 */
export class ProviderMirror {
  readonly requests = new Map<string, number>();
  private server: Server | undefined;
  private certDir = "";
  private port = 0;

  constructor(private readonly options: ProviderMirrorOptions) {}

  get host(): string {
    return this.options.host ?? "127.0.0.1";
  }

  /** The `url` of a `network_mirror` block. */
  get url(): string {
    const host = isIP(this.host) === 6 ? `[${this.host}]` : this.host;
    return `https://${host}:${this.port}/`;
  }

  get caFile(): string {
    return join(this.certDir, "ca.pem");
  }

  async start(): Promise<void> {
    this.certDir = this.options.certDir ?? (await mkdtemp(join(tmpdir(), "ktf-mirror-tls-")));
    const tls = await certificate(this.certDir, [this.host, ...(this.options.altNames ?? [])]);
    const server = createServer(tls, (req, res) => {
      const path = new URL(req.url ?? "/", "https://mirror").pathname;
      this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
      this.serve(path)
        .then((file) => {
          if (!file || (req.method !== "GET" && req.method !== "HEAD")) {
            res.writeHead(file ? 405 : 404).end();
            return;
          }
          res.writeHead(200, { "Content-Type": contentType(file.path), "Content-Length": file.size });
          if (req.method === "HEAD") res.end();
          else createReadStream(file.path).pipe(res);
        })
        .catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((ok, fail) => server.once("error", fail).listen(this.options.port ?? 0, this.host, ok));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** How often `path` (for example "/registry.ktf.dev/ktf/ktftest/index.json") was asked for. */
  count(path: string): number {
    return this.requests.get(path) ?? 0;
  }

  /** Requests for provider packages (the zips), whatever their path. */
  downloads(): number {
    return [...this.requests].filter(([path]) => path.endsWith(".zip")).reduce((sum, [, n]) => sum + n, 0);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    }
    if (this.certDir && !this.options.certDir) await rm(this.certDir, { recursive: true, force: true });
  }

  private async serve(path: string): Promise<{ path: string; size: number } | undefined> {
    const root = resolve(this.options.dir);
    const file = resolve(root, "." + decodeURIComponent(path));
    if (relative(root, file).split(sep)[0] === "..") return undefined;
    const info = await stat(file).catch(() => undefined);
    return info?.isFile() ? { path: file, size: info.size } : undefined;
  }
}

/** The engine's CLI configuration that installs registry.ktf.dev providers from `mirrorUrl` only. */
export function mirrorCliConfig(mirrorUrl: string): string {
  return `provider_installation {
  network_mirror {
    url     = "${mirrorUrl}"
    include = ["registry.ktf.dev/*/*"]
  }
  direct {
    exclude = ["registry.ktf.dev/*/*"]
  }
}
`;
}

function contentType(path: string): string {
  return extname(path) === ".json" ? "application/json" : "application/zip";
}

/** A throwaway CA and a server certificate it signed for `names` (IP addresses or DNS names). */
async function certificate(dir: string, names: string[]): Promise<{ key: string; cert: string }> {
  const file = (name: string) => join(dir, name);
  const kept = await Promise.all([readFile(file("server.key"), "utf8"), readFile(file("server.pem"), "utf8"), readFile(file("names"), "utf8")]).catch(() => undefined);
  if (kept && kept[2] === names.join(",") && (await exec("openssl", ["x509", "-checkend", "86400", "-noout", "-in", file("server.pem")]).then(() => true, () => false))) {
    return { key: kept[0], cert: kept[1] };
  }
  await mkdir(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await exec("openssl", ["req", "-x509", ...ec, "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "7",
    "-subj", "/CN=ktf test provider mirror CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
  await exec("openssl", ["req", ...ec, "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", `/CN=${names[0] ?? "localhost"}`]);
  const sans = [...new Set(names)].map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
  await writeFile(file("server.ext"), `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  await exec("openssl", ["x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
    "-days", "7", "-extfile", file("server.ext"), "-out", file("server.pem")]);
  await writeFile(file("names"), names.join(","));
  return { key: await readFile(file("server.key"), "utf8"), cert: await readFile(file("server.pem"), "utf8") };
}
