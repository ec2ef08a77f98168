/** Where `ktf install` puts the operator unless told otherwise (a module of its own: the CLI's command table needs it, not the manifests). */
export const DEFAULT_NAMESPACE = "ktf-system";

/** The most shards the operator's work may be split into (each one a Lease every holder renews). */
export const MAX_SHARDS = 64;
