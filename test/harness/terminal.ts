import { spawn } from "node:child_process";
import { harness, KTF_BIN } from "./cluster.js";

/** A ktf process behind a real terminal (util-linux `script` gives it a pty). */
export interface TerminalSession {
  /** Types into the terminal: "\x03" is Ctrl-C, which the pty turns into SIGINT. */
  type(text: string): void;
  /** Resolves once the terminal has shown text matching `pattern`. */
  shows(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Everything shown so far. */
  output(): string;
  exited: Promise<number>;
  kill(): void;
}

export function ktfInTerminal(cwd: string, args: string[]): TerminalSession {
  const command = [process.execPath, KTF_BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const child = spawn("script", ["-qec", command, "/dev/null"], {
    cwd,
    env: { ...process.env, KUBECONFIG: harness().kubeconfig, NO_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let shown = "";
  const waiters = new Set<() => void>();
  const append = (d: Buffer) => {
    shown += d.toString();
    for (const w of waiters) w();
  };
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  let closed = false;
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      closed = true;
      for (const w of waiters) w();
      resolve(code ?? -1);
    });
  });
  return {
    type: (text) => child.stdin.write(text),
    output: () => shown,
    exited,
    kill: () => child.kill("SIGKILL"),
    shows: (pattern, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const settle = (error?: string) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(new Error(`${error} ${pattern}; it showed:\n${shown}`));
          else resolve();
        };
        const check = () => {
          if (pattern.test(shown)) settle();
          else if (closed) settle("ktf exited without showing");
        };
        const timer = setTimeout(() => settle("the terminal never showed"), timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}
