/**
 * JavaScript for a hostile configuration's program (a provisioner's, a data source's) that
 * calls the run pod's state sidecar the way an attacker would. It defines `say` (a line
 * straight into the pod log, through the runner's own stdout, as hostile code can) and
 * `attackSidecar(more)`, which makes the five calls a read-only run must have refused (and
 * `more`) and says "ATTACK <name> <status> <answer>" for each.
 */
export const SIDECAR_ATTACK_JS = String.raw`
const say = (line) => { try { require("fs").appendFileSync("/proc/1/fd/1", line + "\n"); } catch { console.log(line); } };
const state = (serial, lineage) => JSON.stringify({ version: 4, serial, lineage, resources: [] });
async function attackSidecar(more = []) {
  const attempts = [
    ["delete", "/state", { method: "DELETE" }],
    ["post-without-lock-id", "/state", { method: "POST", body: state(99, "x") }],
    ["post-other-lineage", "/state?ID=guess", { method: "POST", body: state(99, "another-lineage") }],
    ["post-lower-serial", "/state?ID=guess", { method: "POST", body: state(0, "x") }],
    ["unlock-other", "/lock", { method: "UNLOCK", body: JSON.stringify({ ID: "someone-elses" }) }],
    ...more,
  ];
  for (const [name, path, init] of attempts) {
    const res = await fetch("http://127.0.0.1:8471" + path, init);
    say("ATTACK " + name + " " + res.status + " " + (await res.text()).replace(/\s+/g, " "));
  }
}
`;
