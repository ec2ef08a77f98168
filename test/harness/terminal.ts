import { execFile, spawn } from "node:child_process";
import { readFile, readlink } from "node:fs/promises";
import { promisify } from "node:util";
import { harness, KTF_BIN } from "./cluster.js";

const exec = promisify(execFile);

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
  /** Resizes the terminal, as a user dragging its window does (ktf gets SIGWINCH). */
  resize(columns: number, rows: number): Promise<void>;
}

export function ktfInTerminal(cwd: string, args: string[], options: { size?: { columns: number; rows: number }; kubeconfig?: string } = {}): TerminalSession {
  const { size } = options;
  // `script` runs the command with $SHELL -c (else /bin/sh). dash forks rather than execs,
  // and a shell left in the terminal's process group also gets the Ctrl-C and dies of it
  // once ktf exits (code 130 whatever ktf returned). `exec` leaves ktf alone in the
  // foreground, as an interactive shell would.
  // A pty that script(1) makes without a terminal behind it has no size unless given one.
  const stty = size ? `stty cols ${size.columns} rows ${size.rows}; ` : "";
  const command = `${stty}exec ${[process.execPath, KTF_BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ")}`;
  const child = spawn("script", ["-qec", command, "/dev/null"], {
    cwd,
    // The same shell everywhere (a developer's SHELL is often bash, CI's is unset).
    env: { ...process.env, SHELL: "/bin/sh", KUBECONFIG: options.kubeconfig ?? harness().kubeconfig, NO_COLOR: "1" },
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
    resize: async (columns, rows) => {
      // ktf is script's child (the shell exec'd it); its stdin is the pty's slave.
      const ktfPid = (await readFile(`/proc/${child.pid}/task/${child.pid}/children`, "utf8")).trim().split(/\s+/)[0];
      const tty = await readlink(`/proc/${ktfPid}/fd/0`);
      await exec("stty", ["-F", tty, "cols", String(columns), "rows", String(rows)]);
    },
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
