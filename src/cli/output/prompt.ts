import { createInterface } from "node:readline";
import type { Terminal } from "./terminal.js";

/** Asks a question on the terminal and resolves with the answer (empty on end of input). */
export function ask(t: Terminal, question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: t.stdin, output: t.stderr, terminal: Boolean(t.stdin.isTTY) });
    let answered = false;
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer.trim());
    });
    rl.once("close", () => {
      if (!answered) resolve("");
    });
  });
}
