import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCES } from "../../src/kube/resources.js";
import { kubectl } from "../harness/cluster.js";
import { KTFTEST_REQUIRED, providerFixture } from "../harness/providers.js";
import { runNameIn, workspaceFixture } from "../harness/workspace.js";
import { mintUser } from "../harness/users.js";
import { SIDECAR_ATTACK_JS } from "../harness/sidecar-attack.js";
import { ktfInTerminal } from "../harness/terminal.js";

/**
 * A configuration whose data source runs a program during every plan: what a user who may
 * only plan (ktf-user) can make run in the pod, with the workspace's credentials.
 */
const MAIN = `${KTFTEST_REQUIRED}
resource "terraform_data" "keep" {
  input = "precious"
}

data "ktftest_exec" "attack" {
  command = ["node", "\${path.module}/attack.js"]
}

# A provider function runs wherever the expression is evaluated: console too, which reads
# data sources from the state instead.
locals {
  attack = provider::ktftest::exec(["node", "\${path.module}/attack.js", "sidecar-only"])
}
`;

/**
 * The program: it calls the state sidecar as an attacker would and prints each answer into
 * the pod log. When ATTACK_SWAP is set, it also makes a plan of another configuration (one
 * that destroys what the workspace has) and leaves a process behind that puts that plan in
 * place of the one the engine saves, to be applied by whoever approves this run's plan.
 */
const ATTACK_JS = String.raw`${SIDECAR_ATTACK_JS}
const fs = require("fs");
const { execFileSync, spawn } = require("child_process");
(async () => {
  await attackSidecar();
  if (!process.env.ATTACK_SWAP || process.argv[2] === "sidecar-only") return;
  const evil = "/tmp/evil";
  fs.mkdirSync(evil, { recursive: true });
  fs.writeFileSync(evil + "/main.tf", 'resource "terraform_data" "evil" {\n  input = "pwned"\n}\n');
  fs.copyFileSync("zz_ktf_backend_override.tf", evil + "/zz_ktf_backend_override.tf");
  const opts = { cwd: evil, stdio: "ignore" };
  execFileSync("tofu", ["init", "-input=false"], opts);
  execFileSync("tofu", ["plan", "-lock=false", "-input=false", "-out=/tmp/evil.tfplan"], opts);
  say("ATTACK evil plan ready");
  // The engine is this program's grandparent (engine -> provider -> program). Woken by inotify
  // the moment the engine creates its plan file, the swapper stops the engine (same user),
  // puts the other plan in place and lets it go on: it cannot exit before the swap.
  const parentOf = (pid) => fs.readFileSync("/proc/" + pid + "/stat", "utf8").split(") ")[1].split(" ")[1];
  const engine = parentOf(process.ppid);
  say("ATTACK engine " + engine + " " + fs.readFileSync("/proc/" + engine + "/comm", "utf8").trim());
  const swapper = "const fs=require('fs');const engine=Number(process.argv.at(-1));const signal=(s)=>{try{process.kill(engine,s)}catch(e){fs.appendFileSync('/proc/1/fd/1','ATTACK '+s+' failed: '+e.message+'\\n')}};let last=-1;const swap=()=>{try{const s=fs.statSync('/ktf/work/ktf.tfplan');if(s.ino!==last){signal('SIGSTOP');fs.copyFileSync('/tmp/evil.tfplan','/ktf/work/swap.tmp');fs.renameSync('/ktf/work/swap.tmp','/ktf/work/ktf.tfplan');last=fs.statSync('/ktf/work/ktf.tfplan').ino;signal('SIGCONT');}}catch{}};fs.watch('/ktf/work',swap);setInterval(swap,1);";
  spawn("node", ["-e", swapper, engine], { detached: true, stdio: "ignore" }).unref();
})();
`;

/** Each call the attack made, refused with a status that says why. */
function expectRefusals(out: string): void {
  expect(out).toMatch(/ATTACK delete 405 .*never deletes/);
  expect(out).toMatch(/ATTACK post-without-lock-id 403 .*writing the state is not allowed for this run's command \(its state access is read\)/);
  expect(out).toMatch(/ATTACK post-other-lineage 403 /);
  expect(out).toMatch(/ATTACK post-lower-serial 403 /);
  expect(out).toMatch(/ATTACK unlock-other 403 .*releasing lock someone-elses, which this run did not take/);
}

describe("a hostile configuration's code during plan and console, run by a user who may only plan", () => {
  let w: Awaited<ReturnType<typeof workspaceFixture>>;
  let p: Awaited<ReturnType<typeof providerFixture>>;
  let mallory: string;
  beforeAll(async () => {
    w = await workspaceFixture("hostileplan", { "main.tf": MAIN, "attack.js": ATTACK_JS });
    p = await providerFixture(w);
    mallory = await mintUser("mallory");
    await kubectl(["-n", w.ns, "create", "rolebinding", "mallory-ktf", "--clusterrole=ktf-user", "--user=mallory"]);
    const apply = await w.ktf(["apply", "-auto-approve"]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
  });
  afterAll(async () => {
    await p.stop();
    await w.cleanup();
  });

  it("cannot delete, write or unlock the state: each call is refused", async () => {
    const before = await kubectl(["-n", w.ns, "get", "secret", "tfstate-default-main", "-o", "jsonpath={.metadata.resourceVersion}"]);
    const r = await w.ktf(["plan"], { kubeconfig: mallory });
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expectRefusals(out);
    expect(await kubectl(["-n", w.ns, "get", "secret", "tfstate-default-main", "-o", "jsonpath={.metadata.resourceVersion}"])).toBe(before);
  });

  it("nor from console, where a provider function in the configuration runs it: refused the same way", async () => {
    const before = await kubectl(["-n", w.ns, "get", "secret", "tfstate-default-main", "-o", "jsonpath={.metadata.resourceVersion}"]);
    const session = ktfInTerminal(w.dir, ["console"], { kubeconfig: mallory });
    try {
      session.type("local.attack\r");
      await session.shows(/ATTACK unlock-other/);
      session.type("exit\r");
      expect(await session.exited).toBe(0);
      expectRefusals(session.output());
    } finally {
      session.kill();
    }
    expect(await kubectl(["-n", w.ns, "get", "secret", "tfstate-default-main", "-o", "jsonpath={.metadata.resourceVersion}"])).toBe(before);
  });

  it("cannot swap the saved plan for another one: such a run fails, and no plan kept or applied is the other one", async () => {
    await w.client.patch(RESOURCES.Workspace, w.ns, "main", {
      spec: { env: [{ name: "KTFTEST_ENDPOINT", value: p.objects.url }, { name: "ATTACK_SWAP", value: "1" }] },
    });
    // The swap races the engine's exit; on a loaded machine it can lose. Whatever the race
    // gives, a plan the engine did not show is never kept: up to three tries for a swap.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const plan = await w.ktf(["plan", "-out=x"], { kubeconfig: mallory });
      const out = plan.stdout + plan.stderr;
      expect(out).toContain("ATTACK evil plan ready");
      expect(out).toMatch(/No changes/);
      const applied = await w.ktf(["apply", `-plan=${runNameIn(plan)}`]);
      if (plan.code !== 0) {
        expect(plan.code, out).toBe(1);
        expect(out).toMatch(/the saved plan file \(1 to add, 0 to change, 1 to destroy\) is not the plan the engine showed \(0 to add, 0 to change, 0 to destroy\): something in the run replaced it/);
        expect(applied.code).toBe(1);
        break;
      }
      // The swap lost: the plan kept is the engine's own, and applying it changes nothing.
      expect(applied.code, applied.stdout + applied.stderr).toBe(0);
      expect(applied.stdout).toMatch(/No changes|0 added, 0 changed, 0 destroyed/);
    }
    const list = await w.ktf(["state", "list"]);
    expect(list.stdout).toContain("terraform_data.keep");
    expect(list.stdout).not.toContain("terraform_data.evil");
  });
});
