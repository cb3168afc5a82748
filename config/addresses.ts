import { isIP } from 'node:net';

/** A client on this machine reaches a server bound to every interface through loopback. */
const loopbackFor: Record<string, string> = { '0.0.0.0': '127.0.0.1', '::': '::1' };

/** Where a client on this machine connects to reach a server bound to `host`. */
export function reachableHost(host: string): string {
  return loopbackFor[host] ?? host;
}

/** `host:port`, with an IPv6 address in brackets as URLs and gRPC targets need it. */
export function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Whether a peer address is this machine's loopback: 127.0.0.0/8, ::1, or an IPv4 loopback address
 * as a dual-stack socket reports it (`::ffff:127.0.0.1`).
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const ipv4 = address.toLowerCase().startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return (isIP(ipv4) === 4 && ipv4.startsWith('127.')) || address === '::1';
}
