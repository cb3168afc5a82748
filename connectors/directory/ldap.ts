// The `ldap` adapter of the directory port: binds as the connection's `bindDn` (with its vaulted
// password), changes passwords with the Password Modify extended operation (RFC 3062), so the server
// hashes them by its own policy, and checks every change with binds of its own.
import { createHash } from 'node:crypto';
import {
  BerWriter,
  Change,
  Attribute,
  Client,
  InsufficientAccessError,
  InvalidCredentialsError,
  NoSuchAttributeError,
  NoSuchObjectError,
} from 'ldapts';
import type { CommandRun, Verification } from '../../domain/automation.js';
import type { LdapSettings } from '../connections/settings.js';
import { ConnectorError, authRefused, notConfigured, unreachable, verificationFailed } from '../failures.js';
import type { Directory } from './port.js';
import { evidenceFor } from '../evidence.js';

const passwordModifyOid = '1.3.6.1.4.1.4203.1.11.1';

export interface LdapOptions {
  /** How long connecting and each operation may take (default 15 s). */
  timeoutMs?: number;
}

/** The request value of a Password Modify: the account and its new password (RFC 3062 §2). */
function passwordModifyRequest(dn: string, newPassword: string): Buffer {
  const writer = new BerWriter();
  writer.startSequence();
  writer.writeString(dn, 0x80);
  writer.writeString(newPassword, 0x82);
  writer.endSequence();
  return writer.buffer;
}

/** The directory behind `settings`, bound as `settings.bindDn` with `secret`. */
export function createLdapDirectory(
  connection: { id: string; settings: LdapSettings },
  secret: string,
  options: LdapOptions = {},
): Directory {
  const { settings } = connection;
  const target = settings.url;
  const timeout = options.timeoutMs ?? 15_000;

  /** A failure of the directory, named by what a retry can do about it. */
  function named(error: unknown, during: string): ConnectorError {
    if (error instanceof ConnectorError) return error;
    if (error instanceof InsufficientAccessError)
      return notConfigured(`${target}: ${settings.bindDn} may not ${during}`);
    if (error instanceof NoSuchObjectError) return notConfigured(`${target}: no entry to ${during}`);
    const message = error instanceof Error ? error.message : String(error);
    return unreachable(`${target}: cannot ${during}: ${message}`);
  }

  async function open(): Promise<Client> {
    const client = new Client({ url: settings.url, timeout, connectTimeout: timeout, strictDN: false });
    if (settings.startTls) await client.startTLS({});
    return client;
  }

  /** Runs `work` bound as the connection; a refused bind is the connection's credential, not the network. */
  async function asConnection<T>(during: string, work: (client: Client) => Promise<T>): Promise<T> {
    const client = await open().catch((error: unknown) => {
      throw named(error, during);
    });
    try {
      try {
        await client.bind(settings.bindDn, secret);
      } catch (error) {
        if (error instanceof InvalidCredentialsError)
          throw authRefused(`${target} refused the bind of ${settings.bindDn}`);
        throw error;
      }
      return await work(client);
    } catch (error) {
      throw named(error, during);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  async function binds(dn: string, password: string): Promise<boolean> {
    let client: Client | undefined;
    try {
      client = await open();
      await client.bind(dn, password);
      return true;
    } catch (error) {
      if (error instanceof InvalidCredentialsError) return false;
      throw named(error, `bind as ${dn}`);
    } finally {
      await client?.unbind().catch(() => undefined);
    }
  }

  /** Records a directory operation the way a command is recorded: its name and LDAP result code. */
  function operation(command: string, response = ''): CommandRun {
    return {
      command,
      exitCode: 0,
      outputSha256: createHash('sha256').update(response).digest('hex'),
      at: new Date().toISOString(),
    };
  }

  /** The bind checks after a change: each must come out as expected, or the change is not verified. */
  async function verifyBinds(
    dn: string,
    expectations: { what: string; password: string; binds: boolean }[],
  ): Promise<Verification[]> {
    const verifications: Verification[] = [];
    for (const expectation of expectations) {
      const bound = await binds(dn, expectation.password);
      const passed = bound === expectation.binds;
      verifications.push({
        what: expectation.what,
        passed,
        at: new Date().toISOString(),
        detail: bound ? 'bind accepted' : 'bind refused (invalid credentials)',
      });
      if (!passed)
        throw verificationFailed(
          `${target}, ${dn}: "${expectation.what}" did not hold (${bound ? 'bind accepted' : 'bind refused'})`,
        );
    }
    return verifications;
  }

  const evidence = evidenceFor('ldap', connection.id, target);

  return {
    check: () =>
      asConnection('read the base DN', async (client) => {
        const { searchEntries } = await client.search(settings.baseDn, {
          scope: 'base',
          attributes: ['1.1'],
        });
        if (searchEntries.length === 0)
          throw notConfigured(`${target}: the base DN ${settings.baseDn} is not there`);
        return {
          detail: `bound to ${target} as ${settings.bindDn}${settings.startTls ? ' over StartTLS' : ''}; the base DN ${settings.baseDn} is there`,
        };
      }),

    binds,

    async rotatePassword(accountDn, newPassword, previousPassword) {
      const startedAt = new Date().toISOString();
      const response = await asConnection(`change the password of ${accountDn}`, (client) =>
        client.exop(passwordModifyOid, passwordModifyRequest(accountDn, newPassword)),
      );
      const commands = [operation(`LDAP Password Modify (RFC 3062) of ${accountDn}`, response.value ?? '')];
      const verifications = await verifyBinds(accountDn, [
        { what: 'new password binds', password: newPassword, binds: true },
        ...(previousPassword !== undefined
          ? [{ what: 'previous password refused', password: previousPassword, binds: false }]
          : []),
      ]);
      return evidence(startedAt, commands, verifications);
    },

    async disableAccount(accountDn, previousPassword) {
      const startedAt = new Date().toISOString();
      const commands: CommandRun[] = [];
      const remaining = await asConnection(`remove the passwords of ${accountDn}`, async (client) => {
        try {
          await client.modify(
            accountDn,
            new Change({ operation: 'delete', modification: new Attribute({ type: 'userPassword' }) }),
          );
          commands.push(operation(`LDAP modify of ${accountDn}: delete userPassword`));
        } catch (error) {
          // Already without a password: a retry of a revocation that went through.
          if (!(error instanceof NoSuchAttributeError)) throw error;
        }
        const { searchEntries } = await client.search(accountDn, {
          scope: 'base',
          attributes: ['userPassword'],
        });
        const values = searchEntries[0]?.userPassword;
        return Array.isArray(values) ? values.length : values ? 1 : 0;
      });
      const verifications: Verification[] = [
        {
          what: 'no password left on the account',
          passed: remaining === 0,
          at: new Date().toISOString(),
          detail: `${remaining} userPassword value(s) read back`,
        },
      ];
      if (remaining !== 0)
        throw verificationFailed(`${target}, ${accountDn}: ${remaining} password value(s) remain`);
      if (previousPassword !== undefined)
        verifications.push(
          ...(await verifyBinds(accountDn, [
            { what: 'previous password refused', password: previousPassword, binds: false },
          ])),
        );
      return evidence(startedAt, commands, verifications);
    },
  };
}
