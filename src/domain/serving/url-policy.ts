import ipaddr from 'ipaddr.js';
import { DomainError } from '../../core/errors.ts';

/**
 * Which URLs an endpoint may fetch when it is sent `{"url": ...}` instead of an
 * image. Deny by default where it matters: any public host, but never the
 * machine's own network (loopback, private, link-local incl. cloud metadata at
 * 169.254.169.254, ...) unless an operator names the range in allowPrivateCidrs.
 *
 * checkUrl is the static check of a URL; checkAddress is the check of every
 * address a host name resolves to, which the fetcher must run before connecting.
 */
export interface UrlFetchPolicy {
  /** 'images.example.com' exactly, '*.example.com' for its subdomains, or '*' for any public host. */
  allowHosts: readonly string[];
  /** Non-public ranges that may be fetched anyway, e.g. '10.1.2.0/24' or '127.0.0.1/32'. */
  allowPrivateCidrs: readonly string[];
  allowedSchemes: readonly ('http' | 'https')[];
  maxRedirects: number;
  maxBytes: number;
  /** For the whole fetch: resolution, connection, redirects and body. */
  timeoutMs: number;
}

export const DEFAULT_URL_FETCH_POLICY: Readonly<UrlFetchPolicy> = Object.freeze({
  allowHosts: Object.freeze(['*']),
  allowPrivateCidrs: Object.freeze([]),
  allowedSchemes: Object.freeze(['http', 'https'] as const),
  maxRedirects: 3,
  maxBytes: 6 * 1024 * 1024,
  timeoutMs: 10_000,
});

/** URLs longer than this are refused before parsing; no image URL needs more. */
const MAX_URL_LENGTH = 8192;
const SUPPORTED_SCHEMES = ['http', 'https'];

/**
 * Names that by definition never denote a public host (RFC 6761, RFC 6762, RFC 8375,
 * ICANN's .internal). '*' does not reach them; an explicit allow-list entry can.
 */
const NON_PUBLIC_SUFFIXES = ['localhost', 'localdomain', 'local', 'internal', 'home.arpa'];

const ALLOW_PRIVATE_HINT = 'Fetching private, loopback and link-local addresses is refused unless the server allows the range in allowPrivateCidrs.';

/** Parses and statically checks a URL; returns it when it may be fetched (host names still need checkAddress). */
export function checkUrl(url: string, policy: UrlFetchPolicy): URL {
  if (url.length > MAX_URL_LENGTH) {
    throw refused(`The URL is ${url.length} characters long; at most ${MAX_URL_LENGTH} are accepted.`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refused(`'${shorten(url)}' is not a valid absolute URL.`);
  }

  const scheme = parsed.protocol.slice(0, -1);
  const schemes = policy.allowedSchemes.filter((s) => SUPPORTED_SCHEMES.includes(s));
  if (!(schemes as string[]).includes(scheme)) {
    throw refused(`Only ${schemes.join(' and ')} URLs can be fetched; got '${shorten(parsed.protocol)}'.`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw refused('URLs with credentials (user:password@host) are refused; host the image where it can be fetched without them.');
  }

  const host = hostOf(parsed);
  const ip = parseIp(host);
  const match = matchAllowHosts(host, ip !== undefined, policy.allowHosts);
  if (match === undefined) {
    throw refused(`The host '${host}' is not one of the image hosts this server is allowed to fetch from.`, { host });
  }
  if (ip) {
    const reason = addressRefusal(ip, policy);
    if (reason) throw refused(`${host} is ${reason}. ${ALLOW_PRIVATE_HINT}`, { host });
  } else if (match === '*' && isNonPublicName(host)) {
    throw refused(`'${host}' names a local or internal host, which is never fetched unless allowHosts names it explicitly.`, {
      host,
    });
  }
  return parsed;
}

/** Throws UrlRefused when the address (as resolved for a host) may not be connected to. */
export function checkAddress(ip: string, policy: UrlFetchPolicy): void {
  const address = parseIp(ip);
  if (!address) throw refused(`'${shorten(ip)}' is not an IP address.`);
  const reason = addressRefusal(address, policy);
  if (reason) throw refused(`${ip} is ${reason}. ${ALLOW_PRIVATE_HINT}`);
}

/**
 * Why an address is refused, in words ("a loopback address (127.0.0.0/8)"), or
 * undefined when it may be fetched. For messages that must not echo the address.
 */
export function describeAddressRefusal(ip: string, policy: UrlFetchPolicy): string | undefined {
  const address = parseIp(ip);
  return address ? addressRefusal(address, policy) : 'not an IP address';
}

/** Checks a policy from configuration; throws ValidationError naming the field. */
export function validateUrlFetchPolicy(policy: UrlFetchPolicy): UrlFetchPolicy {
  policy.allowHosts.forEach((pattern, i) => {
    if (normalizeHostPattern(pattern) === undefined) {
      throw invalid(`allowHosts[${i}]`, `'${pattern}' is not a host name, '*.domain' or '*'`);
    }
  });
  policy.allowPrivateCidrs.forEach((_, i) => parseCidr(policy.allowPrivateCidrs, i));
  policy.allowedSchemes.forEach((scheme, i) => {
    if (!SUPPORTED_SCHEMES.includes(scheme)) throw invalid(`allowedSchemes[${i}]`, `'${scheme}' is not http or https`);
  });
  const whole = (field: 'maxRedirects' | 'maxBytes' | 'timeoutMs', min: number) => {
    const value = policy[field];
    if (!Number.isSafeInteger(value) || value < min) throw invalid(field, `must be a whole number >= ${min}; got ${value}`);
  };
  whole('maxRedirects', 0);
  whole('maxBytes', 1);
  whole('timeoutMs', 1);
  return policy;
}

// ---------------------------------------------------------------------------
// Hosts

/** Lower-case host without IPv6 brackets or a trailing root dot. */
function hostOf(url: URL): string {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/**
 * The pattern that admits the host, or undefined. '*' admits any host (whether it
 * is public is then up to the address checks); a wildcard admits names, never IPs.
 */
function matchAllowHosts(host: string, isIp: boolean, patterns: readonly string[]): string | undefined {
  for (const raw of patterns) {
    const pattern = normalizeHostPattern(raw);
    if (pattern === undefined) continue;
    if (pattern === '*' || pattern === host) return pattern;
    // '*.example.com' admits a.example.com and a.b.example.com, not example.com or evil-example.com.
    if (!isIp && pattern.startsWith('*.') && host.endsWith(pattern.slice(1))) return pattern;
  }
  return undefined;
}

/**
 * Patterns are written by people: case, a trailing dot, Unicode names and IP
 * spellings normalise as URL hosts do, so both sides compare as strings.
 */
function normalizeHostPattern(pattern: string): string | undefined {
  const text = pattern.trim().toLowerCase();
  if (text === '*') return '*';
  const wildcard = text.startsWith('*.');
  const name = wildcard ? text.slice(2) : text;
  if (name === '' || name.includes('*')) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${name}/`);
  } catch {
    return undefined;
  }
  // A port, path, query or user makes it something other than a host.
  if (url.host !== url.hostname || url.pathname !== '/' || url.search || url.hash || url.username) return undefined;
  const host = hostOf(url);
  if (wildcard && parseIp(host)) return undefined;
  return wildcard ? `*.${host}` : host;
}

function isNonPublicName(host: string): boolean {
  return NON_PUBLIC_SUFFIXES.some((suffix) => host === suffix || host.endsWith(`.${suffix}`));
}

// ---------------------------------------------------------------------------
// Addresses

/**
 * Only canonical forms: URL parsing has already turned 0x7f.1 and 2130706433 into
 * 127.0.0.1, and resolvers answer dotted quads. ipaddr.js on its own would accept
 * the legacy forms too, which is not wanted for addresses read from elsewhere.
 */
function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (bare.includes(':') && ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  return undefined;
}

const IPV4_RANGES: Record<string, string> = {
  unspecified: 'an unspecified address (0.0.0.0/8)',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address (224.0.0.0/4)',
  linkLocal: 'a link-local address (169.254.0.0/16, where cloud metadata services live)',
  loopback: 'a loopback address (127.0.0.0/8)',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  private: 'a private address (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)',
  reserved: 'a reserved or documentation address',
  as112: 'an AS112 address',
  amt: 'an AMT relay address',
};

const IPV6_RANGES: Record<string, string> = {
  unspecified: 'the unspecified address (::)',
  linkLocal: 'a link-local address (fe80::/10)',
  multicast: 'a multicast address (ff00::/8)',
  loopback: 'the loopback address (::1)',
  uniqueLocal: 'a unique-local address (fc00::/7)',
  deprecatedSiteLocal: 'a site-local address (fec0::/10)',
  teredo: 'a Teredo tunnel address (2001::/32)',
  rfc6052: 'a local-use NAT64 address (64:ff9b:1::/48)',
};

/** The IPv4 address inside an IPv6 address that only wraps one (mapped, NAT64, 6to4). */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = address.parts;
  const fromWords = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  if (p[0] === 0x64 && p[1] === 0xff9b && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0) {
    return fromWords(p[6]!, p[7]!);
  }
  if (p[0] === 0x2002) return fromWords(p[1]!, p[2]!);
  return undefined;
}

function addressRefusal(address: ipaddr.IPv4 | ipaddr.IPv6, policy: UrlFetchPolicy): string | undefined {
  const embedded = address.kind() === 'ipv6' ? embeddedIPv4(address as ipaddr.IPv6) : undefined;
  if (isInAllowedCidrs(address, embedded, policy.allowPrivateCidrs)) return undefined;
  return rangeRefusal(address, embedded);
}

/** Only public unicast addresses pass; the embedding forms are judged by the IPv4 they carry. */
function rangeRefusal(address: ipaddr.IPv4 | ipaddr.IPv6, embedded: ipaddr.IPv4 | undefined): string | undefined {
  if (address.kind() === 'ipv4') {
    const range = (address as ipaddr.IPv4).range();
    return range === 'unicast' ? undefined : (IPV4_RANGES[range] ?? `a special-purpose address (${range})`);
  }
  if (embedded) {
    const inner = rangeRefusal(embedded, undefined);
    return inner ? `an IPv6 form of ${inner}` : undefined;
  }
  const range = (address as ipaddr.IPv6).range();
  if (range !== 'unicast') return IPV6_RANGES[range] ?? `a special-purpose IPv6 address (${range})`;
  // Only 2000::/3 is allocated for global unicast; everything else (IPv4-compatible
  // ::a.b.c.d, unassigned space) has no business being an image host.
  const first = (address as ipaddr.IPv6).parts[0]!;
  if (first < 0x2000 || first > 0x3fff) return 'not a global unicast IPv6 address (2000::/3)';
  return undefined;
}

function isInAllowedCidrs(
  address: ipaddr.IPv4 | ipaddr.IPv6,
  embedded: ipaddr.IPv4 | undefined,
  cidrs: readonly string[],
): boolean {
  return parsedCidrs(cidrs).some(([network, bits]) => {
    if (network.kind() === address.kind()) return address.match(network, bits);
    // Allowing 127.0.0.1/32 also allows ::ffff:127.0.0.1: the same host.
    return embedded !== undefined && network.kind() === 'ipv4' && embedded.match(network, bits);
  });
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];
const cidrCache = new WeakMap<readonly string[], Cidr[]>();

/** Parsed once per policy array; a bare address counts as a single-address range. */
function parsedCidrs(cidrs: readonly string[]): Cidr[] {
  let parsed = cidrCache.get(cidrs);
  if (!parsed) {
    parsed = cidrs.map((_, i) => parseCidr(cidrs, i));
    cidrCache.set(cidrs, parsed);
  }
  return parsed;
}

function parseCidr(cidrs: readonly string[], i: number): Cidr {
  const text = cidrs[i]!.trim();
  const [addressText, bitsText] = text.split('/');
  const address = parseIp(addressText ?? '');
  const maxBits = address?.kind() === 'ipv4' ? 32 : 128;
  const bits = bitsText === undefined ? maxBits : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!address || !(bits >= 0 && bits <= maxBits) || text.split('/').length > 2) {
    throw invalid(`allowPrivateCidrs[${i}]`, `'${cidrs[i]}' is not a CIDR like 10.1.0.0/16 or fd00::/8`);
  }
  return [address, bits];
}

// ---------------------------------------------------------------------------

function refused(message: string, details: Record<string, unknown> = {}): DomainError {
  return new DomainError('UrlRefused', message, details);
}

function invalid(field: string, problem: string): DomainError {
  return new DomainError('ValidationError', `urlFetchPolicy.${field}: ${problem}`, { field: `urlFetchPolicy.${field}` });
}

function shorten(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
