import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CLI_CONFIG_CA_FILE } from "./contract.js";

/** Where Debian-based images (the run image's base) keep their roots. */
const SYSTEM_ROOTS = "/etc/ssl/certs/ca-certificates.crt";

/**
 * The engine's environment, trusting the CLI configuration's CA certificates (a private
 * mirror's or registry's) when the workspace has some. Go reads SSL_CERT_FILE *instead of*
 * the system's roots, so the bundle is those roots plus the extra ones: public registries
 * and clouds stay reachable.
 */
export async function trustingExtraCAs(env: NodeJS.ProcessEnv, dir: string, files: { extra?: string; roots?: string } = {}): Promise<NodeJS.ProcessEnv> {
  const extra = await readFile(files.extra ?? CLI_CONFIG_CA_FILE, "utf8").catch(() => undefined);
  if (!extra) return env;
  const roots = await readFile(env.SSL_CERT_FILE ?? files.roots ?? SYSTEM_ROOTS, "utf8").catch(() => "");
  const bundle = join(dir, "ktf-ca-bundle.pem");
  await writeFile(bundle, [roots, extra].filter(Boolean).map((pem) => (pem.endsWith("\n") ? pem : `${pem}\n`)).join(""));
  return { ...env, SSL_CERT_FILE: bundle };
}
