/**
 * Files the runner adds to the configuration before the engine runs. Their names end in
 * `_override.tf` so that they take precedence over whatever the configuration declares.
 */
export const BACKEND_FILE = "zz_ktf_backend_override.tf";
export const HCL_VARIABLES_FILE = "zz_ktf_variables.auto.tfvars";

function hclString(value: string): string {
  return JSON.stringify(value).replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/**
 * The built-in state backend: the engine's `kubernetes` backend, with the state Secret
 * and lock Lease in the workspace's namespace, reached with the pod's ServiceAccount.
 */
export function backendOverride(o: { namespace: string; secretSuffix: string }): string {
  return [
    "# Written by ktf: state lives in the workspace's namespace.",
    "terraform {",
    '  backend "kubernetes" {',
    `    secret_suffix     = ${hclString(o.secretSuffix)}`,
    `    namespace         = ${hclString(o.namespace)}`,
    "    in_cluster_config = true",
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
