import ipaddr from 'ipaddr.js';

/**
 * How the typed condition operators read their values, from the policy (once,
 * at compile time) and from the request context (per request): each parser
 * answers undefined for text it does not accept, and the caller decides what
 * that means (a malformed policy, or a context value that matches nothing).
 */

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** Numeric condition values: integers and decimals, as the IAM User Guide writes them. */
export function parseNumber(text: string): number | undefined {
  return DECIMAL.test(text) ? Number(text) : undefined;
}

const W3C_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const EPOCH_SECONDS = /^\d+(?:\.\d+)?$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Date condition values, in milliseconds since the epoch. AWS takes "one of
 * the W3C implementations of the ISO 8601 date formats" (a date, or a date
 * and time to the minute, second or fraction, with `Z` or an offset) "or in
 * epoch (UNIX) time" (seconds). A time without a zone is read as UTC, never
 * as local time. A bare year (`2020`) reads as epoch seconds.
 */
export function parseDate(text: string): number | undefined {
  if (EPOCH_SECONDS.test(text)) return Number(text) * 1000;
  const match = W3C_DATE.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction, zone] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  if (mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1] || (mo === 2 && d === 29 && !isLeapYear(y))) return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  let ms = Date.UTC(y, mo - 1, d, h, mi, s) + (fraction === undefined ? 0 : Number(fraction) * 1000);
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMinutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    ms -= sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  return ms;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Bool's values: `true` and `false`, in any case. */
export function parseBoolean(text: string): boolean | undefined {
  const lower = text.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * BinaryEquals compares bytes; both sides are base64 text here, so both are
 * brought to one spelling (padded, canonical trailing bits) before comparing.
 */
export function canonicalBase64(text: string): string | undefined {
  if (!BASE64.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64').toString('base64');
}

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
export type IpRange = readonly [IpAddress, number];

/**
 * An IPv4 or IPv6 address in its usual spelling (dotted quad; RFC 4291 text,
 * brackets allowed). An IPv4 address written in IPv6 form (`::ffff:a.b.c.d`,
 * as dual-stack sockets report IPv4 clients) is read as the IPv4 address, so
 * an IPv4 range in a policy matches it.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (!bare.includes(':') || !ipaddr.IPv6.isValid(bare)) return undefined;
  const address = ipaddr.IPv6.parse(bare);
  return address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

/** `203.0.113.0/24`, `2001:db8::/32`, or one address (a /32 or /128). */
export function parseIpRange(text: string): IpRange | undefined {
  const slash = text.indexOf('/');
  const address = parseIpAddress(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  if (slash < 0) return [address, address.kind() === 'ipv4' ? 32 : 128];
  const bitsText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  // An IPv4 range written in IPv6 form counts its bits over the 128 of IPv6.
  const mappedIPv4 = address.kind() === 'ipv4' && text.includes(':');
  if (mappedIPv4) return bits >= 96 && bits <= 128 ? [address, bits - 96] : undefined;
  return bits <= (address.kind() === 'ipv4' ? 32 : 128) ? [address, bits] : undefined;
}

export function ipInRange(address: IpAddress, range: IpRange): boolean {
  return address.kind() === range[0].kind() && address.match(range[0], range[1]);
}
