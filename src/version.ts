import { readFileSync } from "node:fs";

/** ktf's version, from its package.json (one level above both src/ and dist/). */
export const KTF_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
