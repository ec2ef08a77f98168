/** Where `ktf install` puts the operator unless told otherwise (a module of its own: the CLI's command table needs it, not the manifests). */
export const DEFAULT_NAMESPACE = "ktf-system";
