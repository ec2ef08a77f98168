import { CliConfigError } from "../errors.js";

/**
 * A reader of HCL's native syntax, as much as the terraform CLI configuration needs: the
 * structure of attributes and blocks, and the value of an attribute that is one string
 * literal. Other expressions are read past (their brackets, strings and heredocs balanced),
 * not evaluated. Messages name lines and never quote the file's text: it holds tokens.
 */
export interface HclAttribute {
  kind: "attribute";
  name: string;
  line: number;
  value: HclValue;
}

export interface HclBlock {
  kind: "block";
  type: string;
  labels: string[];
  line: number;
  body: HclItem[];
}

export type HclItem = HclAttribute | HclBlock;

/** A string literal's value; `template` when it interpolates, `other` for any other expression. */
export type HclValue = { kind: "string"; value: string } | { kind: "template" } | { kind: "other" };

type Token =
  | { kind: "ident"; text: string; line: number }
  | { kind: "string"; value: string | undefined; line: number }
  | { kind: "number" | "newline" | "eof"; line: number }
  | { kind: "punct"; char: string; line: number };

const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
const ID_START = /[\p{L}_]/u;
const ID_CONTINUE = /[\p{L}\p{N}_-]/u;

class Lexer {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  fail(line: number, message: string): never {
    throw new CliConfigError(this.file, line, message);
  }

  next(): Token {
    this.skipSpaceAndComments();
    const line = this.line;
    const c = this.text[this.pos];
    if (c === undefined) return { kind: "eof", line };
    if (c === "\n") {
      this.advance();
      return { kind: "newline", line };
    }
    if (c === '"') return { kind: "string", value: this.quoted(), line };
    if (c === "<" && this.text[this.pos + 1] === "<" && /[-\p{L}_]/u.test(this.text[this.pos + 2] ?? "")) {
      return { kind: "string", value: this.heredoc(), line };
    }
    if (ID_START.test(c)) {
      const start = this.pos;
      while (this.pos < this.text.length && ID_CONTINUE.test(this.text[this.pos] ?? "")) this.pos++;
      return { kind: "ident", text: this.text.slice(start, this.pos), line };
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.slice(this.pos));
      this.pos += m?.[0].length ?? 1;
      return { kind: "number", line };
    }
    this.advance();
    return { kind: "punct", char: c, line };
  }

  private advance(): void {
    if (this.text[this.pos] === "\n") this.line++;
    this.pos++;
  }

  private skipSpaceAndComments(): void {
    for (;;) {
      const c = this.text[this.pos];
      const d = this.text[this.pos + 1];
      if (c === " " || c === "\t" || c === "\r" || c === "\uFEFF") this.pos++;
      else if (c === "#" || (c === "/" && d === "/")) {
        while (this.pos < this.text.length && this.text[this.pos] !== "\n") this.pos++;
      } else if (c === "/" && d === "*") {
        const line = this.line;
        const end = this.text.indexOf("*/", this.pos + 2);
        if (end < 0) this.fail(line, "a /* comment is never closed with */");
        while (this.pos < end + 2) this.advance();
      } else return;
    }
  }

  /** A quoted template; its value, or undefined when it interpolates (`${...}`, `%{...}`). */
  private quoted(): string | undefined {
    const line = this.line;
    this.pos++;
    let value = "";
    let literal = true;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined || c === "\n") this.fail(line, "a quoted string is not closed on its line: expected \"");
      this.pos++;
      if (c === '"') return literal ? value : undefined;
      if (c === "\\") value += this.escape(line);
      else if ((c === "$" || c === "%") && this.text[this.pos] === "{") {
        this.pos++;
        this.skipInterpolation(line);
        literal = false;
      } else if ((c === "$" || c === "%") && this.text[this.pos] === c && this.text[this.pos + 1] === "{") {
        // $${ and %%{ are a literal ${ and %{.
        value += `${c}{`;
        this.pos += 2;
      } else value += c;
    }
  }

  private escape(line: number): string {
    const c = this.text[this.pos];
    this.pos++;
    const simple: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
    if (c !== undefined && c in simple) return simple[c] ?? "";
    const digits = c === "u" ? 4 : c === "U" ? 8 : 0;
    const hex = this.text.slice(this.pos, this.pos + digits);
    if (digits && new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) {
      this.pos += digits;
      const code = parseInt(hex, 16);
      if (code <= 0x10ffff) return String.fromCodePoint(code);
    }
    this.fail(line, "invalid escape sequence in a quoted string: expected \\n, \\r, \\t, \\\", \\\\, \\uNNNN or \\UNNNNNNNN");
  }

  /** Reads past an interpolation's expression, up to and including its closing }. */
  private skipInterpolation(line: number): void {
    let depth = 0;
    for (;;) {
      const t = this.next();
      if (t.kind === "eof") this.fail(line, "an interpolation ${ or %{ is never closed with }");
      if (t.kind !== "punct") continue;
      if (t.char === "{") depth++;
      else if (t.char === "}" && depth-- === 0) return;
    }
  }

  /** <<EOT or <<-EOT up to a line holding only EOT; no escapes, as in HCL. */
  private heredoc(): string | undefined {
    const line = this.line;
    const m = /^<<(-?)([\p{L}_][\p{L}\p{N}_-]*)[ \t]*\r?\n/u.exec(this.text.slice(this.pos));
    if (!m) this.fail(line, "a heredoc needs its marker alone at the end of the line, as in <<EOT");
    const [opening, indent, marker] = m;
    for (let i = 0; i < opening.length; i++) this.advance();
    const lines: string[] = [];
    for (;;) {
      if (this.pos >= this.text.length) this.fail(line, "a heredoc is never closed by its marker on a line of its own");
      const end = this.text.indexOf("\n", this.pos);
      const raw = this.text.slice(this.pos, end < 0 ? undefined : end).replace(/\r$/, "");
      const closing = raw.trim() === marker;
      this.pos = end < 0 ? this.text.length : end;
      if (closing) break;
      this.advance();
      lines.push(raw);
    }
    const body = indent ? dedent(lines) : lines;
    const text = body.map((l) => `${l}\n`).join("");
    return /(^|[^$])\$\{|(^|[^%])%\{/.test(text) ? undefined : text.replaceAll("$${", "${").replaceAll("%%{", "%{");
  }
}

function dedent(lines: string[]): string[] {
  const widths = lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)?.[0].length ?? 0);
  const strip = widths.length ? Math.min(...widths) : 0;
  return lines.map((l) => l.slice(strip));
}

class Parser {
  private peeked: Token | undefined;

  constructor(private readonly lexer: Lexer) {}

  body(closer: "}" | "eof"): HclItem[] {
    const items: HclItem[] = [];
    for (;;) {
      const t = this.skipNewlines();
      if (t.kind === "eof") {
        if (closer === "}") this.lexer.fail(t.line, "the file ends inside a block: expected }");
        return items;
      }
      if (t.kind === "punct" && t.char === "}") {
        if (closer === "eof") this.lexer.fail(t.line, "a } closes no block");
        return items;
      }
      if (t.kind !== "ident") this.lexer.fail(t.line, `expected an attribute name or a block type, found ${describe(t)}`);
      this.take();
      items.push(this.item(t.text, t.line));
    }
  }

  private item(name: string, line: number): HclItem {
    const t = this.peek();
    if (t.kind === "punct" && t.char === "=") {
      this.take();
      const value = this.expression(line);
      this.endOfItem();
      return { kind: "attribute", name, line, value };
    }
    const labels: string[] = [];
    for (;;) {
      const l = this.take();
      if (l.kind === "ident") labels.push(l.text);
      else if (l.kind === "string") {
        if (l.value === undefined) this.lexer.fail(l.line, "a block label cannot interpolate: expected a plain quoted string");
        labels.push(l.value);
      } else if (l.kind === "punct" && l.char === "{") break;
      else this.lexer.fail(l.line, `expected = (an attribute) or a block's labels and {, found ${describe(l)}`);
    }
    const body = this.body("}");
    this.take();
    this.endOfItem();
    return { kind: "block", type: name, labels, line, body };
  }

  /** An attribute's value: up to the newline (or the block's }) outside any brackets. */
  private expression(line: number): HclValue {
    const tokens: Token[] = [];
    const open: string[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === "eof") {
        if (open.length) this.lexer.fail(line, `a value is not closed: expected ${CLOSERS[open[open.length - 1] ?? ""]}`);
        break;
      }
      if (!open.length && (t.kind === "newline" || (t.kind === "punct" && t.char === "}"))) break;
      this.take();
      if (t.kind === "newline") continue;
      if (t.kind === "punct" && t.char in CLOSERS) open.push(t.char);
      else if (t.kind === "punct" && Object.values(CLOSERS).includes(t.char)) {
        const opener = open.pop();
        if (opener === undefined || CLOSERS[opener] !== t.char) this.lexer.fail(t.line, `unexpected ${t.char}${opener ? `: expected ${CLOSERS[opener]}` : ""}`);
      }
      tokens.push(t);
    }
    if (!tokens.length) this.lexer.fail(line, "expected a value after =");
    const [only] = tokens;
    if (tokens.length === 1 && only?.kind === "string") return only.value === undefined ? { kind: "template" } : { kind: "string", value: only.value };
    return { kind: "other" };
  }

  private endOfItem(): void {
    const t = this.peek();
    if (t.kind === "newline") this.take();
    else if (!(t.kind === "eof" || (t.kind === "punct" && t.char === "}"))) {
      this.lexer.fail(t.line, `expected a new line after an attribute or a block, found ${describe(t)}`);
    }
  }

  private skipNewlines(): Token {
    while (this.peek().kind === "newline") this.take();
    return this.peek();
  }

  private peek(): Token {
    this.peeked ??= this.lexer.next();
    return this.peeked;
  }

  private take(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }
}

/** What a token is, without its text. */
function describe(t: Token): string {
  switch (t.kind) {
    case "punct":
      return `"${t.char}"`;
    case "ident":
      return "a name";
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "newline":
      return "the end of the line";
    case "eof":
      return "the end of the file";
  }
}

export function parseHclBody(text: string, file: string): HclItem[] {
  return new Parser(new Lexer(text, file)).body("eof");
}
