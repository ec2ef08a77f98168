import type { Readable } from "node:stream";
import type { KubeClient } from "./client.js";

/** The channels of Kubernetes' v4 streaming protocol: one byte in front of each message. */
const STDIN = 0;
/** Ctrl-D: the end of input for a program on the other side of a terminal. */
const EOT = Buffer.from([4]);

export interface AttachIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
}

/**
 * Sends the local terminal's keys, raw, to a container's stdin (`ktf console`: the engine
 * reads them through the terminal the runner gave it; what it shows comes back sealed in
 * the pod's log). send() puts more bytes on the same stdin, in order with the keys.
 * Sending stops with close(), or when the container closes its side.
 */
export async function attachInput(client: KubeClient, target: { namespace: string; pod: string; container: string }, stdin: AttachIo["stdin"]): Promise<{ send: (data: Buffer) => void; close: () => void }> {
  const path = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/pods/${encodeURIComponent(target.pod)}/attach?container=${encodeURIComponent(target.container)}&stdin=true`;
  const socket = await client.websocket(path, ["v4.channel.k8s.io"]);
  const send = (data: Buffer) => socket.send(Buffer.concat([Buffer.from([STDIN]), data]));
  const onInput = (data: Buffer | string) => send(Buffer.from(data));
  const onEnd = () => send(EOT);
  const raw = Boolean(stdin.isTTY && stdin.setRawMode);
  if (raw) stdin.setRawMode?.(true);
  stdin.on("data", onInput);
  stdin.once("end", onEnd);
  stdin.resume();
  const stop = () => {
    stdin.off("data", onInput);
    stdin.off("end", onEnd);
    stdin.pause();
    if (raw) stdin.setRawMode?.(false);
  };
  // The container ended (or the connection broke): nothing more to send.
  socket.once("close", stop);
  socket.once("error", stop);
  return {
    send,
    close: () => {
      stop();
      socket.close();
    },
  };
}
