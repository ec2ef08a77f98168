import { parseArgs } from "node:util";
import { writeFile } from "node:fs/promises";
import { mirrorCliConfig, ProviderMirror } from "./provider-mirror.js";

/**
 * The test provider's mirror as a process of its own, for the demo (scripts/provider-mirror.sh):
 *   node --import tsx test/harness/provider-mirror-main.ts --dir MIRROR --host IP --port N --cert-dir DIR --cli-config FILE
 * Writes FILE, a CLI configuration naming the mirror, prints the mirror's URL once it
 * listens, and serves until SIGTERM.
 */
const { values } = parseArgs({ options: { dir: { type: "string" }, host: { type: "string" }, port: { type: "string" }, "cert-dir": { type: "string" }, "cli-config": { type: "string" } } });
if (!values.dir || !values.host || !values.port || !values["cert-dir"] || !values["cli-config"]) {
  console.error("usage: provider-mirror-main.ts --dir MIRROR --host IP --port N --cert-dir DIR --cli-config FILE");
  process.exit(2);
}
const mirror = new ProviderMirror({ dir: values.dir, host: values.host, port: Number(values.port), certDir: values["cert-dir"] });
await mirror.start();
await writeFile(values["cli-config"], mirrorCliConfig(mirror.url));
console.log(mirror.url);
process.once("SIGTERM", () => void mirror.stop().then(() => process.exit(0)));
