// Benchmark: how long the CLI takes to answer what needs no cluster (`ktf --help`,
// `ktf --version`, `ktf plan --help`) against `node -e 0`, the floor. Runs are interleaved so
// that the machine's load falls on all alike; prints medians and ratios from this one run.
//   npm run build && node --import tsx bench/cli-startup.ts [rounds]
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = join(new URL("..", import.meta.url).pathname);
const rounds = Number(process.argv[2] ?? 15);
const ktf = process.env.KTF_BIN ?? join(root, "dist/bin/ktf.js");
const cases: Record<string, string[]> = {
  "node -e 0": ["-e", "0"],
  "ktf --help": [ktf, "--help"],
  "ktf --version": [ktf, "--version"],
  "ktf workspace --help": [ktf, "workspace", "--help"],
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < rounds; i++) {
  for (const [name, args] of Object.entries(cases)) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, KUBECONFIG: "/nonexistent" } });
    if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
    times[name]?.push(performance.now() - t0);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const floor = median(times["node -e 0"] ?? []);
console.log(`${rounds} rounds, medians (target: ktf --help <= 2x node -e 0)`);
for (const [name, xs] of Object.entries(times)) console.log(`${name.padEnd(22)} ${median(xs).toFixed(0).padStart(5)} ms  ${(median(xs) / floor).toFixed(2)}x`);
