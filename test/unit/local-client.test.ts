import { describe, expect, it } from 'vitest';
import { isLocalClient } from '../../api/local-client.js';

describe('isLocalClient', () => {
  it.each(['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1'])('accepts %s', (peer) => {
    expect(isLocalClient(peer, {})).toBe(true);
  });

  it.each(['192.0.2.2', '::ffff:192.0.2.2', 'fd00::2', '0.0.0.0', '', undefined])('refuses %s', (peer) => {
    expect(isLocalClient(peer, {})).toBe(false);
  });

  it('refuses a loopback peer that forwards another client', () => {
    expect(isLocalClient('127.0.0.1', { 'x-forwarded-for': '203.0.113.7' })).toBe(false);
    expect(isLocalClient('::1', { forwarded: 'for=203.0.113.7' })).toBe(false);
  });
});
