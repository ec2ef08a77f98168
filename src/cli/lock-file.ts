import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LOCK_FILE } from "../run-log/frames.js";
import { note, type Terminal } from "./output/terminal.js";

/**
 * The dependency lock file's way back: `init` and `providers lock` in the run pod report it,
 * and once the run has succeeded it replaces the local one, as the engine run here would
 * have. Only this one file, only in the directory the configuration came from.
 */
export class LockFileWriteBack {
  private text: string | undefined;

  constructor(
    private readonly t: Terminal,
    private readonly dir: string,
  ) {}

  received(text: string): void {
    this.text = text;
  }

  async write(): Promise<void> {
    if (this.text === undefined) return;
    const path = join(this.dir, LOCK_FILE);
    const local = await readFile(path, "utf8").catch(() => undefined);
    if (local === this.text) return;
    await writeFile(path, this.text);
    note(this.t, `ktf: ${local === undefined ? "wrote" : "updated"} ${LOCK_FILE} in ${this.dir}; commit it with your configuration`);
  }
}
