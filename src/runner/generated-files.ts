/**
 * Files the runner adds to the configuration before the engine runs. Their names end in
 * `_override.tf` so that they take precedence over whatever the configuration declares.
 */
export const BACKEND_FILE = "zz_ktf_backend_override.tf";
export const HCL_VARIABLES_FILE = "zz_ktf_variables.auto.tfvars";

export function hclString(value: string): string {
  return JSON.stringify(value).replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/**
 * The built-in state backend: the engine's `http` backend, served on the pod's loopback
 * by the state sidecar, which keeps the state in a Secret and the lock in a Lease of the
 * workspace's namespace.
 */
export function backendOverride(o: { port: number }): string {
  const base = `http://127.0.0.1:${o.port}`;
  return [
    "# Written by ktf: the workspace's state, through the run's state sidecar.",
    "terraform {",
    '  backend "http" {',
    `    address        = ${hclString(`${base}/state`)}`,
    `    lock_address   = ${hclString(`${base}/lock`)}`,
    `    unlock_address = ${hclString(`${base}/lock`)}`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Variables whose values are HCL expressions, as a tfvars file. */
export function hclVariables(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([name, expr]) => `${name} = ${expr}\n`)
    .join("");
}
