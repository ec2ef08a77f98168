import { describe, expect, it } from "vitest";
import { moduleConfiguration } from "./module-config.js";

describe("moduleConfiguration", () => {
  it("declares each variable, passes it to the module by its name, and takes the named outputs", () => {
    const text = moduleConfiguration(
      { source: "app.terraform.io/acme/network/aws", version: "~> 1.2", outputs: [{ name: "vpc_id", sensitive: false }, { name: "db_password", sensitive: true }] },
      [{ name: "region", sensitive: false }, { name: "token", sensitive: true }],
    );
    expect(text).toContain('variable "region" {}');
    expect(text).toContain('variable "token" {\n  sensitive = true\n}');
    expect(text).toContain('module "workspace" {\n  source = "app.terraform.io/acme/network/aws"\n  version = "~> 1.2"\n  region = var.region\n  token = var.token\n}');
    expect(text).toContain('output "vpc_id" {\n  value = module.workspace.vpc_id\n}');
    expect(text).toContain('output "db_password" {\n  value = module.workspace.db_password\n  sensitive = true\n}');
  });

  it("writes the source as a string literal: no quote, escape or template gets out of it", () => {
    const text = moduleConfiguration({ source: 'git::https://x/"}\nresource "null" "evil" {${file("/etc/passwd")}%{if}', outputs: [] }, []);
    expect(text).toContain('source = "git::https://x/\\"}\\nresource \\"null\\" \\"evil\\" {$${file(\\"/etc/passwd\\")}%%{if}"');
    expect(text).not.toContain("version");
  });
});
