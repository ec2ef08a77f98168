import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** The operator's main process, as this machine sees it (the cluster runs here). */
export async function operatorPids(): Promise<number[]> {
  const { stdout } = await exec("pgrep", ["-f", "/opt/ktf/dist/bin/ktf.js operator"]).catch(() => ({ stdout: "" }));
  return stdout.split("\n").filter(Boolean).map(Number);
}

/** Runs `fn` with the operator frozen (SIGSTOP), so that what it does happens before the operator sees any of it. */
export async function whileOperatorFrozen(fn: () => Promise<void>): Promise<void> {
  const pids = await operatorPids();
  for (const pid of pids) process.kill(pid, "SIGSTOP");
  try {
    await fn();
  } finally {
    for (const pid of pids) process.kill(pid, "SIGCONT");
  }
}
