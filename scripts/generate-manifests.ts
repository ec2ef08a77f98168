// Writes the generated files under deploy/ from the zod schemas and the install builders.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { deployFiles } from "../src/install/render.js";

const root = join(dirname(new URL(import.meta.url).pathname), "..");
for (const [path, text] of Object.entries(deployFiles())) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
