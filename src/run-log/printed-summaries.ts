import type { PlanSummary } from "../api/run.js";

export type Counts = Pick<PlanSummary, "add" | "change" | "destroy" | "import">;

// eslint-disable-next-line no-control-regex -- the engine's colours are escape sequences
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * The summaries the engine printed while it planned ("Plan: 1 to add, 0 to change, 0 to
 * destroy.", or -json's change_summary), collected from its stdout as it streams, to be
 * held against the plan file it saved.
 */
export class PrintedSummaries {
  readonly found: Counts[] = [];
  private partial = "";

  push(chunk: string): void {
    const lines = (this.partial + chunk).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = "";
  }

  private line(raw: string): void {
    const line = raw.replace(ANSI, "").trim();
    if (line.startsWith("{") && line.includes('"change_summary"')) {
      try {
        const m = JSON.parse(line) as { type?: string; changes?: { add?: number; change?: number; remove?: number; import?: number; operation?: string } };
        if (m.type === "change_summary" && m.changes?.operation === "plan") {
          const c = m.changes;
          this.found.push({ add: c.add ?? 0, change: c.change ?? 0, destroy: c.remove ?? 0, import: c.import ?? 0 });
        }
      } catch {
        // Not the engine's JSON: not a summary.
      }
      return;
    }
    if (!line.startsWith("Plan: ")) return;
    const count = (what: string) => Number(new RegExp(`(\\d+) to ${what}\\b`).exec(line)?.[1] ?? 0);
    this.found.push({ add: count("add"), change: count("change"), destroy: count("destroy"), import: count("import") });
  }
}
