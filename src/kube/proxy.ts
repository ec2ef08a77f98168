import { BlockList, isIP } from "node:net";
import { UsageError } from "../errors.js";

type Env = NodeJS.ProcessEnv;

/**
 * The proxy that requests to `server` go through, as client-go picks it: the cluster's
 * proxy-url always; else HTTPS_PROXY (HTTP_PROXY for an http:// server) unless the host is
 * loopback or NO_PROXY exempts it (Go's golang.org/x/net/http/httpproxy rules).
 */
export function proxyFor(server: URL, proxyUrl: string | null | undefined, env: Env): URL | undefined {
  if (proxyUrl) return parseProxy(proxyUrl, "proxy-url");
  const https = server.protocol === "https:";
  const [name, value] = firstSet(env, https ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"]);
  if (!value) return undefined;
  const host = server.hostname.replace(/^\[|\]$/g, "");
  const port = server.port || (https ? "443" : "80");
  if (!useProxy(host, port, firstSet(env, ["NO_PROXY", "no_proxy"])[1] ?? "")) return undefined;
  return parseProxy(value, name);
}

/** Go reads the first of the names that is set and not empty. */
function firstSet(env: Env, names: string[]): [string, string | undefined] {
  const name = names.find((n) => env[n]) ?? names[0] ?? "";
  return [name, env[name] || undefined];
}

function parseProxy(value: string, source: string): URL {
  let url: URL;
  try {
    // Go accepts "host:port" for "http://host:port".
    url = new URL(value.includes("://") ? value : `http://${value}`);
  } catch {
    throw new UsageError(`${source} ${value} is not a proxy URL: write it as http://host:port`);
  }
  const shown = `${url.protocol}//${url.host}`;
  if (url.protocol.startsWith("socks")) {
    throw new UsageError(`${source} ${shown} is a SOCKS proxy, which ktf does not support: use an HTTP proxy that allows CONNECT (http://host:port)`);
  }
  if (url.protocol !== "http:") throw new UsageError(`${source} ${shown}: ktf supports only http:// proxies (it tunnels through them with CONNECT)`);
  return url;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

const family = (ip: string) => (isIP(ip) === 6 ? "ipv6" : "ipv4");

/** Whether a request to host:port goes through the proxy, given NO_PROXY. */
export function useProxy(hostname: string, port: string, noProxy: string): boolean {
  const host = hostname.toLowerCase();
  if (host === "localhost") return false;
  const ip = isIP(host) !== 0;
  if (ip && LOOPBACK.check(host, family(host))) return false;
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "*") return false;
    if (entry && exempts(entry, host, port, ip)) return false;
  }
  return true;
}

/** One NO_PROXY entry: a CIDR, an IP or a domain, each optionally with a port. */
function exempts(entry: string, host: string, port: string, hostIsIp: boolean): boolean {
  if (entry.includes("/")) {
    const [net = "", bits = ""] = entry.split("/");
    if (isIP(net) && /^\d+$/.test(bits)) {
      if (!hostIsIp) return false;
      const subnet = new BlockList();
      subnet.addSubnet(net, Number(bits), family(net));
      return subnet.check(host, family(host));
    }
  }
  const { host: h, port: p } = splitHostPort(entry);
  if (isIP(h)) {
    if (!hostIsIp) return false;
    const one = new BlockList();
    one.addAddress(h, family(h));
    return one.check(host, family(host)) && (!p || p === port);
  }
  if (!h) return false;
  // "foo.com" exempts foo.com and its subdomains; ".foo.com" and "*.foo.com" only subdomains.
  const suffix = h.startsWith("*.") ? h.slice(1) : h.startsWith(".") ? h : `.${h}`;
  const matchesHost = !h.startsWith(".") && !h.startsWith("*.");
  return (host.endsWith(suffix) || (matchesHost && host === suffix.slice(1))) && (!p || p === port);
}

/** Go's net.SplitHostPort, falling back to the whole entry as host when there is no port. */
function splitHostPort(entry: string): { host: string; port: string } {
  const bracketed = /^\[(.*)\]:(\d*)$/.exec(entry);
  if (bracketed) return { host: bracketed[1] ?? "", port: bracketed[2] ?? "" };
  const colon = entry.lastIndexOf(":");
  if (colon < 0 || entry.indexOf(":") !== colon) return { host: entry.replace(/^\[|\]$/g, ""), port: "" };
  return { host: entry.slice(0, colon), port: entry.slice(colon + 1) };
}
