// The ldap adapter against Debian's real slapd on loopback: a password rotated and checked by binds,
// an account disabled, and each failure named by what a retry can do. Binds are re-checked with
// OpenLDAP's own ldapwhoami, apart from the adapter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFailureTypes } from '../../domain/automation.js';
import { ConnectorError } from '../../connectors/failures.js';
import { createLdapDirectory } from '../../connectors/directory/ldap.js';
import type { LdapSettings } from '../../connectors/connections/settings.js';
import { freePort } from '../support/ports.js';
import { startSlapd, type TestSlapd } from '../support/slapd.js';

let slapd: TestSlapd;

beforeAll(async () => {
  slapd = await startSlapd();
});

afterAll(async () => {
  await slapd?.stop();
});

function directory(overrides: Partial<LdapSettings> = {}, secret = slapd.adminPassword) {
  const settings = {
    url: slapd.url,
    bindDn: slapd.adminDn,
    baseDn: slapd.baseDn,
    startTls: false,
    ...overrides,
  };
  return createLdapDirectory({ id: 'acme-ldap', settings }, secret, { timeoutMs: 5000 });
}

async function failureOf(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('the ldap adapter', () => {
  it('checks a connection by binding and reading the base DN', async () => {
    const { detail } = await directory().check();
    expect(detail).toContain(slapd.adminDn);
    expect(detail).toContain(slapd.baseDn);
  });

  it('names a refused bind, a missing base DN and an unreachable directory', async () => {
    expect((await failureOf(directory({}, 'wrong').check())).type).toBe(connectorFailureTypes.authRefused);
    expect((await failureOf(directory({ baseDn: 'dc=nowhere,dc=test' }).check())).type).toBe(
      connectorFailureTypes.notConfigured,
    );
    const closed = `ldap://127.0.0.1:${await freePort()}`;
    expect((await failureOf(directory({ url: closed }).check())).type).toBe(
      connectorFailureTypes.unreachable,
    );
  });

  it('rotates a password: the new one binds, the old one is refused', async () => {
    const dn = await slapd.addUser('old-secret-1');
    const outcome = await directory().rotatePassword(dn, 'new-secret-1', 'old-secret-1');
    expect(await slapd.binds(dn, 'new-secret-1')).toBe(true);
    expect(await slapd.binds(dn, 'old-secret-1')).toBe(false);
    expect(outcome.verifications.map((check) => [check.what, check.passed])).toEqual([
      ['new password binds', true],
      ['previous password refused', true],
    ]);
    expect(JSON.stringify(outcome)).not.toContain('new-secret-1');
  });

  it('disables an account: no password left, its bind refused; a second run changes nothing', async () => {
    const dn = await slapd.addUser('msp-secret-1');
    const outcome = await directory().disableAccount(dn, 'msp-secret-1');
    expect(await slapd.binds(dn, 'msp-secret-1')).toBe(false);
    expect(outcome.verifications.every((check) => check.passed)).toBe(true);
    const again = await directory().disableAccount(dn);
    expect(again.commands).toEqual([]);
  });

  it('refuses to change an account that is not there', async () => {
    const error = await failureOf(directory().rotatePassword(`uid=nobody,ou=people,${slapd.baseDn}`, 'x'));
    expect(error.type).toBe(connectorFailureTypes.notConfigured);
  });
});
