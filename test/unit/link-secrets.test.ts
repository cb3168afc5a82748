// Link tokens and their forms' CSRF values across a rotation of LINK_SECRET: signed with the newest
// secret, verified with any listed one.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createLinkToken,
  csrfMatches,
  csrfValue,
  linkNonce,
  loadLinkSecrets,
  sha256Hex,
  verifyLinkToken,
} from '../../security/links.js';

const claims = {
  transitionId: 'offboarding-acme',
  requestId: 'data-export-1',
  purpose: 'approval',
  expiresAt: '2999-01-01T00:00:00Z',
} as const;
const old = { id: 'l0', key: randomBytes(32) };
const newer = { id: 'l1', key: randomBytes(32) };
const tokenUnder = (secrets: (typeof old)[]) =>
  createLinkToken(secrets, claims, linkNonce(secrets, 'approval:offboarding-acme:dana'));

describe('link secrets, newest last', () => {
  it('sign with the newest and verify with any listed, until a secret is removed', () => {
    const mailedBefore = tokenUnder([old]);
    const mailedAfter = tokenUnder([old, newer]);
    expect(mailedAfter).toBe(tokenUnder([newer]));
    expect(verifyLinkToken([old, newer], mailedBefore, 'approval')).toMatchObject({ ok: true, claims });
    expect(verifyLinkToken([old, newer], mailedAfter, 'approval')).toMatchObject({ ok: true, claims });
    expect(verifyLinkToken([newer], mailedBefore, 'approval')).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyLinkToken([old], mailedAfter, 'approval')).toEqual({ ok: false, reason: 'invalid' });
  });

  it("accept a form's CSRF value a page showed under an older listed secret", () => {
    const tokenHash = sha256Hex(tokenUnder([old]));
    const shownBefore = csrfValue([old], tokenHash);
    expect(csrfMatches([old, newer], tokenHash, shownBefore)).toBe(true);
    expect(csrfMatches([old, newer], tokenHash, csrfValue([old, newer], tokenHash))).toBe(true);
    expect(csrfMatches([newer], tokenHash, shownBefore)).toBe(false);
    expect(csrfMatches([old, newer], tokenHash, undefined)).toBe(false);
  });

  it('read a plain LINK_SECRET as it always was, as the secret l0', async () => {
    const plain = randomBytes(32).toString('base64');
    expect(await loadLinkSecrets('/nowhere', plain)).toEqual([
      { id: 'l0', key: Buffer.from(plain, 'base64') },
    ]);
    // `openssl rand -base64 64` wraps its output after 64 characters.
    const long = randomBytes(64);
    const wrapped = `${long.toString('base64').slice(0, 64)}\n${long.toString('base64').slice(64)}`;
    expect(await loadLinkSecrets('/nowhere', wrapped)).toEqual([{ id: 'l0', key: long }]);
    expect(await loadLinkSecrets('/nowhere', `${plain},l1:${newer.key.toString('base64')}`)).toEqual([
      { id: 'l0', key: Buffer.from(plain, 'base64') },
      newer,
    ]);
  });
});
