import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CliConfigError } from "../errors.js";
import { CliCredentials, comparableHost } from "./credentials.js";

const SECRET = "s3cr3t.atlasv1.abcdef";

/** The error parse throws, which must never carry the token. */
function parseError(text: string, file = "config.tfrc"): CliConfigError {
  try {
    CliCredentials.parse(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(CliConfigError);
    expect((err as Error).message).not.toContain(SECRET);
    expect((err as Error).message).not.toContain("atlasv1");
    return err as CliConfigError;
  }
  throw new Error("expected a CliConfigError");
}

describe("CliCredentials: the HCL CLI configuration", () => {
  it("reads credentials blocks among everything else a CLI configuration holds", () => {
    const config = `# terraform CLI configuration
plugin_cache_dir   = "$HOME/.terraform.d/plugin-cache"
disable_checkpoint = true

/* A block comment with a credentials "fake.example.com" { token = "no" } inside
   over two lines */
provider_installation {
  network_mirror {
    url     = "https://mirror.example.com/providers/"
    include = ["registry.example.com/*/*"] // the mirror's own
  }
  direct {
    exclude = [
      "registry.example.com/*/*",
    ]
  }
}

host "tfe.example.com" {
  services = {
    "tfe.v2" = "https://tfe.example.com/api/v2/"
  }
}

credentials "app.terraform.io" {
  # the token of the organization's team
  token = "${SECRET}"
}
credentials "tfe.example.com" { token = "other\\ttoken\\u00e9" }
credentials_helper "example" {
  args = ["--host", "x"]
}
`;
    const c = CliCredentials.parse(config, "config.tfrc");
    expect(c.tokenFor("app.terraform.io")).toBe(SECRET);
    expect(c.tokenFor("tfe.example.com")).toBe("other\ttokené");
    expect(c.tokenFor("fake.example.com")).toBeUndefined();
    expect(c.hosts).toEqual(["app.terraform.io", "tfe.example.com"]);
  });

  it.each([
    ["APP.Terraform.IO", "app.terraform.io"],
    ["app.terraform.io:443", "app.terraform.io"],
    ["127.0.0.1:8833", "127.0.0.1:8833"],
  ])("compares host %s as %s", (given, compared) => {
    expect(comparableHost(given)).toBe(compared);
    const c = CliCredentials.parse(`credentials "${compared}" {\n  token = "t"\n}\n`, "c.tfrc");
    expect(c.tokenFor(given)).toBe("t");
  });

  it("reads strings with escapes, literal $${ and %%{, and heredocs", () => {
    const config = [
      'credentials "a.example.com" { token = "q\\"uote\\\\back$${x}%%{y}" }',
      "credentials \"b.example.com\" {",
      "  token = <<-EOT",
      "    heredoc-token",
      "    EOT",
      "}",
      "credentials \"c.example.com\" {",
      '  token = "c" # a comment after the value',
      '  other = { nested = ["}", "{", "a${"}"}b", <<EOT',
      "} ${x}",
      "EOT",
      "  ] }",
      "}",
    ].join("\n");
    const c = CliCredentials.parse(config, "c.tfrc");
    expect(c.tokenFor("a.example.com")).toBe('q"uote\\back${x}%{y}');
    expect(c.tokenFor("b.example.com")).toBe("heredoc-token\n");
    expect(c.tokenFor("c.example.com")).toBe("c");
  });

  it("finds no credentials in a file without them, or an empty one", () => {
    expect(CliCredentials.parse("", "empty.tfrc").hosts).toEqual([]);
    expect(CliCredentials.parse("disable_checkpoint = true\n", "c.tfrc").hosts).toEqual([]);
  });

  it.each([
    [`credentials "app.terraform.io" {\n  token = "${SECRET}\n}\n`, 2, "a quoted string is not closed on its line"],
    [`credentials "app.terraform.io" {\n  token = "${SECRET}"\n`, 3, "the file ends inside a block: expected }"],
    [`credentials "app.terraform.io" {\n  token = "${SECRET}"\n}\n}\n`, 4, "a } closes no block"],
    [`credentials "app.terraform.io" {\n  token "${SECRET}"\n}\n`, 2, "expected = (an attribute) or a block's labels and {, found the end of the line"],
    [`credentials "app.terraform.io" {\n  token = ${SECRET}\n}\n`, 2, 'the token of credentials "app.terraform.io" must be one quoted string'],
    [`credentials "app.terraform.io" {\n  token = "\${var.x}${SECRET}"\n}\n`, 2, 'the token of credentials "app.terraform.io" must be one quoted string, without interpolation'],
    [`credentials "app.terraform.io" {\n  tokn = "${SECRET}"\n}\n`, 1, 'credentials "app.terraform.io" has no token = "..." attribute'],
    [`credentials {\n  token = "${SECRET}"\n}\n`, 1, "a credentials block needs one label, its hostname"],
    [`/* a\nb */\nx = <<-EOT\n  l1\n  EOT\ny = "a" # c\ncredentials {\n  token = "${SECRET}"\n}\n`, 7, "a credentials block needs one label, its hostname"],
    [`credentials "${SECRET} x" {\n  token = "t"\n}\n`, 1, "a credentials block's label must be a hostname"],
    [`credentials "a.io" {\n  token = "t"\n}\ncredentials "A.io:443" {\n  token = "${SECRET}"\n}\n`, 4, "a second credentials block for a.io (the first is on line 1)"],
    [`credentials "a.io" {\n  token = ""\n}\n`, 2, 'the token of credentials "a.io" is empty'],
    [`credentials "a.io" {\n  token = "\\q${SECRET}"\n}\n`, 2, "invalid escape sequence in a quoted string"],
    [`/* ${SECRET}\ncredentials "a.io" {\n`, 1, "a /* comment is never closed with */"],
    [`${SECRET}\n`, 1, "expected = (an attribute) or a block's labels and {, found \".\""],
    [`"${SECRET}"\n`, 1, "expected an attribute name or a block type, found a string"],
    [`x = [1, 2\n\ny = "${SECRET}"\n`, 1, "a value is not closed: expected ]"],
    [`x = (1]\n`, 1, 'unexpected ]: expected )'],
    [`x =\n`, 1, "expected a value after ="],
    [`credentials "a.io" {\n  token = <<EOT\n${SECRET}\n`, 2, "a heredoc is never closed by its marker"],
    [`x = "\${ "${SECRET}"\n`, 1, "an interpolation ${ or %{ is never closed with }"],
  ])("refuses %j at line %i: %s", (text, line, message) => {
    const err = parseError(text);
    expect(err.line).toBe(line);
    expect(err.message).toContain(`config.tfrc:${line}: ${message}`);
  });
});

describe("CliCredentials: credentials.tfrc.json", () => {
  it("reads the JSON form terraform login writes, and HCL's JSON form of a block", () => {
    const json = JSON.stringify({
      credentials: { "app.terraform.io": { token: SECRET }, "tfe.example.com": [{ token: "t2" }] },
      provider_installation: { direct: {} },
    });
    const c = CliCredentials.parse(json, "credentials.tfrc.json");
    expect(c.tokenFor("app.terraform.io")).toBe(SECRET);
    expect(c.tokenFor("tfe.example.com")).toBe("t2");
  });

  it("takes a file that starts with { as JSON whatever its name", () => {
    expect(CliCredentials.parse(`  {"credentials": {"h.io": {"token": "t"}}}`, "config").tokenFor("h.io")).toBe("t");
  });

  it.each([
    [`{"credentials": {"a.io": {"token": "${SECRET}"}`, 1, "Expected ',' or '}' after property value"],
    [`{\n"credentials":\n {"a.io": {"token": "${SECRET}}}}`, 3, "Unterminated string"],
    [`{"credentials": {"a.io": {"token": "${SECRET}" }}`, 1, "Expected ',' or '}' after property value"],
    ["", 0, "the JSON ends too soon"],
    [`{"credentials": {"a.io": {"token": ${SECRET}}}}`, 0, "not valid JSON"],
    [`[1]`, 0, "expected a JSON object"],
    [`{"credentials": ["${SECRET}"]}`, 0, '"credentials" must be an object of hostnames'],
    [`{"credentials": {"a.io": {"tok": "${SECRET}"}}}`, 0, 'credentials["a.io"] must be an object with a non-empty string "token"'],
    [`{"credentials": {"a.io": "${SECRET}"}}`, 0, 'credentials["a.io"] must be an object'],
    [`{"credentials": {"a.io": {"token": "x"}, "A.IO": {"token": "${SECRET}"}}}`, 0, "two credentials entries for a.io"],
  ])("refuses %j (line %i): %s", (text, line, message) => {
    const err = parseError(text, "credentials.tfrc.json");
    expect(err.line).toBe(line);
    expect(err.message).toContain(message);
    expect(err.message).toContain("credentials.tfrc.json");
  });
});

describe("CliCredentials.load", () => {
  it("reads the file at a path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ktf-credentials-"));
    try {
      const file = join(dir, "config.tfrc");
      await writeFile(file, `credentials "app.terraform.io" {\n  token = "${SECRET}"\n}\n`);
      expect((await CliCredentials.load(file)).tokenFor("app.terraform.io")).toBe(SECRET);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
