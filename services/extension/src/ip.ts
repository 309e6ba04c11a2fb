import { isIP } from "node:net";

/** An IPv4 or IPv6 address (what Go's netip.ParseAddr accepts, IPv6 zones included). */
export function isIpAddress(s: string): boolean {
  if (isIP(s) !== 0) return true;
  const zone = s.indexOf("%");
  return zone > 0 && zone < s.length - 1 && isIP(s.slice(0, zone)) === 6;
}

/** A CIDR such as 10.0.0.0/8 or 2001:db8::/32 (netip.ParsePrefix: no zone, prefix within the family). */
export function isCidr(s: string): boolean {
  const slash = s.lastIndexOf("/");
  if (slash <= 0) return false;
  const family = isIP(s.slice(0, slash));
  const bits = s.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
