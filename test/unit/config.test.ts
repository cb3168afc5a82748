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
      { MIN_REMINDER_INTERVAL: 'P2D' },
      /MIN_REMINDER_INTERVAL: expected at most P1D, the default reminderInterval/,
    ],
  ])('rejects %o with one line naming the variable', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
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
});
