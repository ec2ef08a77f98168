/** The Secret of the operator's namespace that the test installation mounts as its cloud variables (ktf install --cloud-variables). */
export const CLOUD_VARIABLES_SECRET = "ktf-cloud-variables";
