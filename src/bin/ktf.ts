#!/usr/bin/env node
// The one executable: the CLI, and inside the cluster `ktf operator` and `ktf runner`.
// This is the only place that exits the process.
import { main } from "../cli/index.js";
import { runOperator } from "../operator/main.js";
import { runRunner } from "../runner/main.js";
import { connectToCluster } from "../kube/connect.js";
import { createLogger } from "../log.js";

const code = await main(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() },
  {
    operator: (args) => runOperator(args, process.env),
    runner: () => runRunner({ env: process.env, client: () => connectToCluster({}).client, log: createLogger({ name: "runner" }) }),
  },
);
// Let stdout drain before leaving (a pipe may still hold the engine's last lines).
process.stdout.write("", () => process.exit(code));
