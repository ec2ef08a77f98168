import type { Readable, Writable } from "node:stream";
import type { KubeClient } from "./client.js";

/** The channels of Kubernetes' v4 streaming protocol: one byte in front of each message. */
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const RESIZE = 4;
/** Ctrl-D: the end of input for a program on the other side of a terminal. */
const EOT = Buffer.from([4]);

export interface AttachIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { columns?: number; rows?: number; on?: (e: "resize", f: () => void) => unknown; off?: (e: "resize", f: () => void) => unknown };
  stderr: Writable;
}

/**
 * Attaches the local terminal to a container that runs with a TTY (`ktf console`): keys go
 * to it raw, its output comes back, and the window size follows the local one. Resolves
 * when the container's side closes.
 */
export async function attachTerminal(client: KubeClient, target: { namespace: string; pod: string; container: string }, io: AttachIo): Promise<void> {
  const path = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/attach?container=${encodeURIComponent(target.container)}&stdin=true&stdout=true&tty=true`;
  const socket = await client.websocket(path, ["v4.channel.k8s.io"]);
  const send = (channel: number, data: Buffer) => socket.send(Buffer.concat([Buffer.from([channel]), data]));
  const resize = () => {
    if (io.stdout.columns && io.stdout.rows) send(RESIZE, Buffer.from(JSON.stringify({ Width: io.stdout.columns, Height: io.stdout.rows })));
  };
  const onInput = (data: Buffer | string) => send(STDIN, Buffer.from(data));
  const onEnd = () => send(STDIN, EOT);
  const raw = Boolean(io.stdin.isTTY && io.stdin.setRawMode);
  if (raw) io.stdin.setRawMode?.(true);
  io.stdin.on("data", onInput);
  io.stdin.once("end", onEnd);
  io.stdin.resume();
  io.stdout.on?.("resize", resize);
  resize();
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on("message", (message: Buffer) => {
        const channel = message[0];
        if (channel === STDOUT) io.stdout.write(message.subarray(1));
        else if (channel === STDERR) io.stderr.write(message.subarray(1));
      });
      socket.once("close", () => resolve());
      socket.once("error", reject);
    });
  } finally {
    io.stdin.off("data", onInput);
    io.stdin.off("end", onEnd);
    io.stdin.pause();
    io.stdout.off?.("resize", resize);
    if (raw) io.stdin.setRawMode?.(false);
  }
}
