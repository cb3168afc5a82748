import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../api/auth.js';
import { ConfigError, parseConfig } from '../../config/config.js';

describe('config', () => {
  it('has working defaults for the embedded run', () => {
    const config = parseConfig({});
    expect(config.port).toBe(3000);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.temporal).toMatchObject({
      address: undefined,
      namespace: 'default',
      taskQueue: 'msp-runbooks',
    });
    expect(config.apiKeys).toEqual([]);
    expect(config.minReminderInterval).toBe('PT1M');
    expect(config.host).toBe('127.0.0.1');
  });

  it.each(['0.0.0.0', '::', '192.0.2.2'])('listens on HOST=%s', (host) => {
    expect(parseConfig({ HOST: host }).host).toBe(host);
  });

  it.each([
    [{ PORT: 'abc' }, /^Invalid configuration: PORT: expected a port number \(got "abc"\)$/],
    [{ PORT: '70000' }, /^Invalid configuration: PORT: /],
    [{ HOST: 'localhost' }, /^Invalid configuration: HOST: expected an IP address to listen on/],
    [{ TEMPORAL_ADDRESS: 'localhost' }, /^Invalid configuration: TEMPORAL_ADDRESS: expected host:port/],
    [{ PUBLIC_URL: 'not a url' }, /^Invalid configuration: PUBLIC_URL: /],
    [{ SMTP_URL: 'mail.example' }, /^Invalid configuration: SMTP_URL: /],
    [{ API_KEYS: 'ops:admin:0123456789abcdef' }, /API_KEYS: key "ops" has role "admin"/],
    [{ API_KEYS: 'ops:operator:short' }, /API_KEYS: key "ops" needs a secret of at least 16 characters/],
    [
      { MIN_REMINDER_INTERVAL: '1 minute' },
      /^Invalid configuration: MIN_REMINDER_INTERVAL: expected an ISO 8601 duration such as P30D or PT2S \(got "1 minute"\)$/,
    ],
    [{ MIN_REMINDER_INTERVAL: 'PT0.5S' }, /MIN_REMINDER_INTERVAL: expected at least PT1S \(got "PT0.5S"\)/],
    [
      { WORKFLOW_BUNDLE: '/nowhere/workflow-bundle.js' },
      /WORKFLOW_BUNDLE: expected the file `npm run build:workflows` writes/,
    ],
    [
      { MIN_REMINDER_INTERVAL: 'P2D' },
      /MIN_REMINDER_INTERVAL: expected at most P1D, the default reminderInterval/,
    ],
  ])('rejects %o with one line naming the variable', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  describe('the shared stores', () => {
    const vaultKey = Buffer.alloc(32, 7).toString('base64');

    it('keeps files under DATA_DIR when DOCUMENTS_URL and STATE_DB_URL are unset', () => {
      expect(parseConfig({})).toMatchObject({ documents: null, stateDbUrl: null });
    });

    it('reads an S3 location with its options and the standard credentials', () => {
      const config = parseConfig({
        DOCUMENTS_URL:
          's3://msp-documents/runbooks/prod?endpoint=http%3A%2F%2Fs3.internal%3A8333&region=eu-west-1&forcePathStyle=true',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'example-secret',
      });
      expect(config.documents).toEqual({
        bucket: 'msp-documents',
        prefix: 'runbooks/prod/',
        endpoint: 'http://s3.internal:8333',
        region: 'eu-west-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example-secret' },
      });
      expect(parseConfig({ DOCUMENTS_URL: 's3://msp-documents?region=us-east-1' }).documents).toEqual({
        bucket: 'msp-documents',
        prefix: '',
        region: 'us-east-1',
        forcePathStyle: false,
      });
    });

    it.each([
      [
        '/srv/documents',
        /^Invalid configuration: DOCUMENTS_URL: expected s3:\/\/<bucket>\/<prefix>\?region=<region>/,
      ],
      ['https://msp-documents/x?region=us-east-1', /DOCUMENTS_URL: expected an s3:\/\/ URL, not https:\/\//],
      [
        's3://MSP_Docs/x?region=us-east-1',
        /DOCUMENTS_URL: the bucket \(after s3:\/\/\) must be 3-63 lowercase letters/,
      ],
      ['s3://msp-documents/x', /DOCUMENTS_URL: expected \?region=<region>, e\.g\. us-east-1/],
      ['s3://msp-documents/x?region=us-east-1&pathStyle=true', /DOCUMENTS_URL: unknown option pathStyle/],
      [
        's3://msp-documents/x?region=us-east-1&endpoint=s3.internal',
        /DOCUMENTS_URL: endpoint must be an http\(s\) URL/,
      ],
      [
        's3://msp-documents/x?region=us-east-1&forcePathStyle=yes',
        /DOCUMENTS_URL: forcePathStyle must be true or false/,
      ],
      [
        's3://msp-documents/a/..%2Fb?region=us-east-1',
        /DOCUMENTS_URL: the prefix may not hold \. or \.\. segments/,
      ],
    ])('rejects DOCUMENTS_URL=%s with what it expects', (value, message) => {
      expect(() => parseConfig({ DOCUMENTS_URL: value })).toThrow(message);
    });

    it('wants both S3 credentials or neither, and never echoes the secret', () => {
      expect(() =>
        parseConfig({
          DOCUMENTS_URL: 's3://msp-documents?region=us-east-1',
          AWS_SECRET_ACCESS_KEY: 'hush-hush',
        }),
      ).toThrow(
        /^Invalid configuration: AWS_ACCESS_KEY_ID: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together$/,
      );
    });

    it('reads STATE_DB_URL, which needs the vault key every API shares', () => {
      const url = 'postgres://runbooks:s3cret@db.internal:5432/runbooks';
      expect(parseConfig({ STATE_DB_URL: url, VAULT_KEY: vaultKey }).stateDbUrl).toBe(url);
      expect(() => parseConfig({ STATE_DB_URL: url })).toThrow(
        /^Invalid configuration: VAULT_KEY: required with STATE_DB_URL: every API process must seal and open the vault with the same key$/,
      );
    });

    it.each(['mysql://runbooks@db/runbooks', 'postgres://db.internal', 'not a url'])(
      'rejects STATE_DB_URL=%s without echoing it (it may hold a password)',
      (value) => {
        const error = (() => {
          try {
            parseConfig({ STATE_DB_URL: value, VAULT_KEY: vaultKey });
          } catch (caught) {
            return caught as Error;
          }
        })();
        expect(error?.message).toBe(
          'Invalid configuration: STATE_DB_URL: expected postgres://user:password@host:port/database',
        );
      },
    );
  });

  it('takes a lower reminder floor for tests', () => {
    expect(parseConfig({ MIN_REMINDER_INTERVAL: 'PT1S' }).minReminderInterval).toBe('PT1S');
  });

  it('never echoes API key secrets in its errors', () => {
    expect(() =>
      parseConfig({ API_KEYS: 'ops:operator:0123456789abcdef,ops:auditor:fedcba9876543210' }),
    ).toThrow(/^Invalid configuration: API_KEYS: key names must be unique$/);
  });

  it('parses API keys with names and roles, keeping only their SHA-256', () => {
    const hashed = createHash('sha256').update('a-key-kept-only-as-a-hash').digest('hex');
    const config = parseConfig({
      API_KEYS: `ops:operator:0123456789abcdef, audit:auditor:a:b:c:d:e:f:g:h:i:j, ci:auditor:sha256:${hashed}`,
    });
    const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');
    expect(config.apiKeys).toEqual([
      { name: 'ops', role: 'operator', sha256: sha256('0123456789abcdef') },
      { name: 'audit', role: 'auditor', sha256: sha256('a:b:c:d:e:f:g:h:i:j') },
      { name: 'ci', role: 'auditor', sha256: hashed },
    ]);
    expect(JSON.stringify(config)).not.toContain('0123456789abcdef');
    const authenticate = createAuthenticator(config.apiKeys);
    expect(authenticate('a-key-kept-only-as-a-hash')).toEqual({ name: 'ci', role: 'auditor' });
    expect(authenticate('0123456789abcdef')).toEqual({ name: 'ops', role: 'operator' });
    expect(authenticate('0123456789abcdeF')).toBeNull();
  });

  it('reads the holder an API key names, as a person who can sign', () => {
    const config = parseConfig({
      API_KEYS:
        'ops[Alex Kim|Systems engineer]:operator:0123456789abcdef, nt[Sam Lee]:auditor:a:b:c:d:e:f:g:h:i:j',
    });
    expect(config.apiKeys.map(({ name, holder }) => ({ name, holder }))).toEqual([
      { name: 'ops', holder: { name: 'Alex Kim', title: 'Systems engineer' } },
      { name: 'nt', holder: { name: 'Sam Lee' } },
    ]);
    expect(createAuthenticator(config.apiKeys)('0123456789abcdef')).toEqual({
      name: 'ops',
      role: 'operator',
    });
    expect(() => parseConfig({ API_KEYS: 'o ps[Alex]:operator:0123456789abcdef' })).toThrow(
      /key name "o ps"/,
    );
  });

  it('refuses bad codec keys without echoing them', () => {
    expect(() => parseConfig({ CODEC_KEYS: 'k1:c2hvcnQ=' })).toThrow(/CODEC_KEYS/);
    expect(() => parseConfig({ CODEC_KEYS: 'k1:c2hvcnQ=' })).not.toThrow(/c2hvcnQ/);
  });

  describe('the vault key and the link secret as lists', () => {
    const key = (fill: number, bytes = 32) => Buffer.alloc(bytes, fill).toString('base64');

    it('takes one plain value, as before lists, or id:value entries, newest last', () => {
      for (const env of [
        { VAULT_KEY: key(1), LINK_SECRET: key(2) },
        { VAULT_KEY: `${key(1)},v1:${key(3)}`, LINK_SECRET: `${key(2)},l1:${key(4, 48)}` },
        { VAULT_KEY: `v0:${key(1)},v1:${key(3)}`, LINK_SECRET: `l0:${key(2)}, l1:${key(4)}` },
      ])
        expect(parseConfig(env)).toMatchObject({ vaultKey: env.VAULT_KEY, linkSecret: env.LINK_SECRET });
    });

    it.each([
      [
        { VAULT_KEY: `v1:${key(1)},v1:${key(3)}` },
        /^Invalid configuration: VAULT_KEY: entry 2: key id "v1" appears more than once$/,
      ],
      [
        { VAULT_KEY: `${key(1)},${key(3)}` },
        /^Invalid configuration: VAULT_KEY: entry 2: key id "v0" appears more than once \(an entry without an id is "v0"\)$/,
      ],
      [
        { VAULT_KEY: `v1:${key(1, 16)}` },
        /^Invalid configuration: VAULT_KEY: entry 1 \(key "v1"\) decodes to 16 bytes; expected 32 \(openssl rand -base64 32\)$/,
      ],
      [
        { VAULT_KEY: `v1:not base64!` },
        /^Invalid configuration: VAULT_KEY: entry 1 \(key "v1"\) is not base64$/,
      ],
      [
        { VAULT_KEY: `Key One:${key(1)}` },
        /^Invalid configuration: VAULT_KEY: entry 1 has an invalid key id/,
      ],
      [
        { VAULT_KEY: ',' },
        /^Invalid configuration: VAULT_KEY: no keys; expected a base64 key, or id:base64key/,
      ],
      [
        { LINK_SECRET: `l1:${key(1, 16)}` },
        /^Invalid configuration: LINK_SECRET: entry 1 \(key "l1"\) decodes to 16 bytes; expected at least 32/,
      ],
      [
        { LINK_SECRET: `l1:${key(1)},l1:${key(2)}` },
        /^Invalid configuration: LINK_SECRET: entry 2: key id "l1" appears more than once$/,
      ],
      [
        { VAULT_KEY: `v1:${key(1, 16)},v2:${key(2)}`, LINK_SECRET: `:${key(1)},l1:${key(2, 8)}` },
        /^Invalid configuration: LINK_SECRET: entry 1 has an invalid key id .*; LINK_SECRET: entry 2 \(key "l1"\) decodes to 8 bytes.*; VAULT_KEY: entry 1 \(key "v1"\) decodes to 16 bytes/,
      ],
    ])('refuses %o naming each bad entry, never its key', (env, message) => {
      const error = (() => {
        try {
          parseConfig(env);
        } catch (caught) {
          return caught as Error;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error?.message).toMatch(message);
      for (const value of Object.values(env))
        for (const entry of value.split(','))
          expect(error?.message).not.toContain(entry.slice(entry.indexOf(':') + 1) || '(empty)');
    });
  });
});
