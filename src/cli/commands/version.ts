import { UsageError } from "../../errors.js";
import { KTF_VERSION } from "../../version.js";
import type { KtfOptions } from "../engine-args.js";
import { versionReport, type Connect } from "../installed-versions.js";
import { warn, type Terminal } from "../output/terminal.js";
import { versionsJson, versionsText } from "../output/versions.js";
import { connect } from "../session.js";

export interface VersionOptions extends KtfOptions {
  operatorNamespace: string;
  output: string;
}

/**
 * `ktf version`: this ktf's version, the operator's and the selected workspace's engine.
 * It exits 0 whatever the cluster answered: each line says what could not be told.
 */
export async function version(t: Terminal, o: VersionOptions, open: Connect = connect): Promise<number> {
  if (o.output !== "text" && o.output !== "json") throw new UsageError(`--output expects text or json, got "${o.output}"`);
  const report = await versionReport(t, o, open);
  t.stdout.write(o.output === "json" ? versionsJson(report) : versionsText(report));
  const operator = "error" in report.operator ? undefined : report.operator.version;
  if (operator && operator !== KTF_VERSION) {
    warn(t, `ktf: warning: this ktf is ${KTF_VERSION} but the operator is ${operator}: use ktf ${operator}, or run \`ktf install\` to put ${KTF_VERSION} in the cluster`);
  }
  return 0;
}
