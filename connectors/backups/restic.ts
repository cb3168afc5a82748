// The `restic` adapter of the backups port: Debian's `restic` CLI, run as a child process with the
// repository password in its environment (never in its arguments, so never in `ps`, the evidence or
// a log). Every run is recorded as a command with its exit code and a digest of its output; every
// claim the evidence makes is something restic or this file checked after the fact.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CommandRun, DataSource, Verification } from '../../domain/automation.js';
import type { ResticSettings } from '../connections/settings.js';
import { authRefused, notConfigured, unreachable, verificationFailed } from '../failures.js';
import { runTool } from '../tool.js';
import type { Backups } from './port.js';
import { evidenceFor } from '../evidence.js';

export interface ResticOptions {
  /** The restic binary (default `restic` on the PATH). */
  binary?: string;
  /** Where scratch restores go (default the system's temp folder). */
  scratchDir?: string;
  /** How much of the repository's data `restic check` reads back (default `100%`). */
  readDataSubset?: string;
  /** Keys of the S3 connection an `s3:` repository is reached with. */
  s3Credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Told what the adapter is doing, for the activity's heartbeats. */
  onProgress?: (phase: string) => void;
  /** Ends a running restic when the activity is cancelled. */
  signal?: AbortSignal;
}

interface Snapshot {
  id: string;
  short_id: string;
  time: string;
  hostname: string;
  paths: string[];
  tags?: string[];
}

interface Node {
  type: string;
  path: string;
  size?: number;
  struct_type?: string;
}

/** Which snapshots are the source's: restic's own filters (`--host`, `--tag`, `--path`). */
function filters(source: DataSource = {}): string[] {
  return [
    ...(source.host ? ['--host', source.host] : []),
    ...(source.tag ? ['--tag', source.tag] : []),
    ...(source.paths ?? []).flatMap((p) => ['--path', p]),
  ];
}

function describe(source: DataSource = {}): string {
  const parts = [
    source.host && `host ${source.host}`,
    source.tag && `tag ${source.tag}`,
    source.paths && `paths ${source.paths.join(', ')}`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'every snapshot';
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function createResticBackups(
  connection: { id: string; settings: ResticSettings },
  secret: string,
  options: ResticOptions = {},
): Backups {
  const { settings } = connection;
  const target = settings.repository;
  const binary = options.binary ?? 'restic';
  const progress = options.onProgress ?? (() => undefined);

  /** What restic's failure says, named by what a retry can do about it. */
  function failure(args: string[], output: string) {
    const said = output.trim().split('\n').slice(-3).join(' ').slice(0, 400);
    if (/wrong password|no key found/i.test(output))
      return authRefused(`${target}: the repository password is refused`);
    if (/unable to open config file|Is there a repository|repository does not exist/i.test(output))
      return notConfigured(`${target}: there is no restic repository there (${said})`);
    if (/already locked|connection refused|timeout|no such host/i.test(output))
      return unreachable(`${target}: restic ${args[0]}: ${said}`);
    return verificationFailed(`${target}: restic ${args[0]} failed: ${said}`);
  }

  /** Runs restic; its stdout, and the run as the evidence records it. Fails with restic's message. */
  async function restic(args: string[], stdoutFile?: string): Promise<{ stdout: string; run: CommandRun }> {
    const result = await runTool(binary, ['--no-cache', ...args], {
      env: {
        RESTIC_REPOSITORY: settings.repository,
        RESTIC_PASSWORD: secret,
        ...(options.s3Credentials
          ? {
              AWS_ACCESS_KEY_ID: options.s3Credentials.accessKeyId,
              AWS_SECRET_ACCESS_KEY: options.s3Credentials.secretAccessKey,
            }
          : {}),
      },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(stdoutFile ? { stdoutFile } : {}),
    });
    if (result.code !== 0) throw failure(args, `${result.stderr}\n${result.stdout}`);
    return {
      stdout: result.stdout,
      run: { ...result.run, command: result.run.command.replace(binary, 'restic') },
    };
  }

  async function version(): Promise<string> {
    const { stdout } = await restic(['version']);
    return /restic (\S+)/.exec(stdout)?.[1] ?? 'unknown';
  }

  async function snapshotsOf(source?: DataSource): Promise<{ snapshots: Snapshot[]; run: CommandRun }> {
    const { stdout, run } = await restic(['snapshots', '--json', ...filters(source)]);
    const snapshots = (JSON.parse(stdout || '[]') as Snapshot[] | null) ?? [];
    return { snapshots: snapshots.sort((a, b) => a.time.localeCompare(b.time)), run };
  }

  const evidence = evidenceFor('restic', connection.id, target);

  /** Records a check; a failed one ends the work with what was found. */
  function verified(verifications: Verification[], what: string, passed: boolean, detail: string): void {
    verifications.push({ what, passed, at: new Date().toISOString(), detail });
    if (!passed) throw verificationFailed(`${target}: "${what}" did not hold (${detail})`);
  }

  return {
    async check() {
      const { snapshots } = await snapshotsOf();
      return { detail: `opened the restic repository ${target}; ${snapshots.length} snapshot(s)` };
    },

    async validateRestore(source) {
      const startedAt = new Date().toISOString();
      const commands: CommandRun[] = [];
      const verifications: Verification[] = [];
      const toolVersion = await version();
      progress('listing snapshots');
      const listed = await snapshotsOf(source);
      commands.push(listed.run);
      const latest = listed.snapshots.at(-1);
      if (!latest) throw verificationFailed(`${target}: no snapshot to restore (${describe(source)})`);

      progress(`checking the repository (read-data-subset ${options.readDataSubset ?? '100%'})`);
      const subset = options.readDataSubset ?? '100%';
      // A damaged repository fails here, with restic's own words, before anything is restored.
      const checked = await restic(['check', `--read-data-subset=${subset}`]);
      commands.push(checked.run);
      verified(
        verifications,
        `restic check --read-data-subset=${subset} finds no error`,
        true,
        'no errors were found',
      );

      const scratch = await mkdtemp(path.join(options.scratchDir ?? tmpdir(), 'restore-validation-'));
      try {
        progress(`restoring snapshot ${latest.short_id} into scratch`);
        const restoreStartedAt = new Date().toISOString();
        const restored = await restic(['restore', latest.id, '--target', scratch, '--verify']);
        commands.push(restored.run);
        verified(
          verifications,
          "restic restore --verify: every restored file's content matches the snapshot's SHA-256 blob IDs",
          /finished verifying \d+ files/.test(restored.stdout),
          restored.stdout.trim().split('\n').at(-1) ?? '',
        );

        progress('comparing the restored files with the snapshot');
        const ls = await restic(['ls', '--json', latest.id]);
        commands.push(ls.run);
        const files = ls.stdout
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Node)
          .filter((node) => node.struct_type === 'node' && node.type === 'file');
        const manifest = createHash('sha256');
        let bytes = 0;
        const mismatched: string[] = [];
        for (const file of files.sort((a, b) => a.path.localeCompare(b.path))) {
          const copy = path.join(scratch, file.path);
          const size = await stat(copy).then(
            (info) => info.size,
            () => -1,
          );
          if (size !== (file.size ?? 0)) mismatched.push(file.path);
          else manifest.update(`${await sha256Of(copy)}  ${file.path}\n`);
          bytes += Math.max(size, 0);
        }
        const restoreEndedAt = new Date().toISOString();
        verified(
          verifications,
          'every file of the snapshot is restored with its size',
          mismatched.length === 0,
          mismatched.length
            ? `missing or of another size: ${mismatched.slice(0, 5).join(', ')}`
            : `${files.length} file(s), ${bytes} bytes`,
        );
        await rm(scratch, { recursive: true, force: true });
        const left = await stat(scratch).then(
          () => true,
          () => false,
        );
        verified(
          verifications,
          'the scratch copy is removed',
          !left,
          left ? `${scratch} is still there` : scratch,
        );
        return evidence(startedAt, commands, verifications, {
          facts: {
            snapshot: latest.id,
            snapshotTime: latest.time,
            snapshotHost: latest.hostname,
            snapshotPaths: latest.paths.join(', '),
            restoredSha256: manifest.digest('hex'),
            tool: `restic ${toolVersion}`,
          },
          restore: {
            startedAt: restoreStartedAt,
            endedAt: restoreEndedAt,
            integrityCheck: 'passed',
            verifiedBy: `connector restic (${connection.id})`,
            restoredBytes: bytes,
            restoredFiles: files.length,
          },
        });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },

    async dump(file, source) {
      const commands: CommandRun[] = [];
      const toolVersion = await version();
      const listed = await snapshotsOf(source);
      commands.push(listed.run);
      const latest = listed.snapshots.at(-1);
      if (!latest) throw verificationFailed(`${target}: no snapshot to export (${describe(source)})`);
      progress(`writing snapshot ${latest.short_id} as a tar archive`);
      const dumped = await restic(['dump', '--archive', 'tar', latest.id, '/'], file);
      commands.push(dumped.run);
      const { size } = await stat(file);
      const verifications: Verification[] = [];
      verified(verifications, 'restic dump wrote the snapshot as a tar archive', size > 0, `${size} bytes`);
      return {
        name: `snapshot-${latest.short_id}.tar`,
        commands,
        verifications,
        facts: {
          snapshot: latest.id,
          snapshotTime: latest.time,
          snapshotPaths: latest.paths.join(', '),
          tool: `restic ${toolVersion}`,
        },
      };
    },

    async deleteSnapshots(source) {
      const startedAt = new Date().toISOString();
      const commands: CommandRun[] = [];
      const verifications: Verification[] = [];
      const toolVersion = await version();
      const before = await snapshotsOf(source);
      commands.push(before.run);
      // None left: a retry of a deletion that went through, nothing to forget again.
      if (before.snapshots.length > 0) {
        progress(`forgetting and pruning ${before.snapshots.length} snapshot(s)`);
        const forgot = await restic([
          'forget',
          '--prune',
          ...before.snapshots.map((snapshot) => snapshot.id),
        ]);
        commands.push(forgot.run);
      }
      const after = await snapshotsOf(source);
      commands.push(after.run);
      verified(
        verifications,
        `restic snapshots lists no snapshot of ${describe(source)}`,
        after.snapshots.length === 0,
        `${before.snapshots.length} before, ${after.snapshots.length} after`,
      );
      const checked = await restic(['check']);
      commands.push(checked.run);
      verified(
        verifications,
        'restic check finds the repository consistent after the prune',
        true,
        'no errors were found',
      );
      return evidence(startedAt, commands, verifications, {
        facts: { forgotten: before.snapshots.map((snapshot) => snapshot.short_id).join(' ') || 'none left' },
        sanitization: {
          mediaType: 'restic backup repository',
          mediaId: `${target} (${describe(source)})`,
          category: 'Purge',
          technique:
            'logical deletion: restic forget --prune removes the snapshots and prunes the data only they referenced',
          tool: 'restic',
          toolVersion,
          verificationMethod: verifications.map((check) => check.what).join('; '),
          verificationResult: 'passed',
        },
      });
    },
  };
}
