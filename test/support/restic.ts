// A real restic repository in a temp folder, made with Debian's `restic` (scripts/prepare.mjs
// installs it): backed-up folders of known files, and a way to damage a pack as a failing disk would.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestRepository {
  repository: string;
  password: string;
  /** Backs up `files` (relative path → content) under a folder of their own; the folder and each file's SHA-256. */
  backup(
    files: Record<string, string | Buffer>,
    options?: { host?: string; tag?: string },
  ): Promise<{ folder: string; sha256: Record<string, string> }>;
  /** restic's own JSON answer to `snapshots`. */
  snapshots(args?: string[]): Promise<{ id: string; hostname: string; paths: string[] }[]>;
  /** Overwrites bytes in the middle of the largest data pack. */
  corrupt(): Promise<void>;
  remove(): Promise<void>;
}

/** Where the repository lives: a folder of its own by default, or an `s3:` URL with the keys to reach it. */
export interface RepositoryPlace {
  repository: string;
  env: Record<string, string>;
}

function restic(place: RepositoryPlace, password: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'restic',
      ['--no-cache', ...args],
      {
        env: { ...process.env, ...place.env, RESTIC_REPOSITORY: place.repository, RESTIC_PASSWORD: password },
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`restic ${args[0]}: ${stderr}`)) : resolve(stdout),
    );
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

export async function createResticRepository(at?: RepositoryPlace): Promise<TestRepository> {
  const dir = await mkdtemp(path.join(tmpdir(), 'msp-restic-'));
  const place = at ?? { repository: path.join(dir, 'repo'), env: {} };
  const { repository } = place;
  const password = randomBytes(12).toString('base64url');
  await restic(place, password, ['init']);
  let folders = 0;
  return {
    repository,
    password,
    async backup(files, options = {}) {
      const folder = path.join(dir, `data-${++folders}`);
      const sha256: Record<string, string> = {};
      for (const [name, content] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(folder, name)), { recursive: true });
        await writeFile(path.join(folder, name), content);
        sha256[name] = createHash('sha256').update(content).digest('hex');
      }
      await restic(place, password, [
        'backup',
        '--quiet',
        ...(options.host ? ['--host', options.host] : []),
        ...(options.tag ? ['--tag', options.tag] : []),
        folder,
      ]);
      return { folder, sha256 };
    },
    async snapshots(args = []) {
      return JSON.parse((await restic(place, password, ['snapshots', '--json', ...args])) || '[]') as {
        id: string;
        hostname: string;
        paths: string[];
      }[];
    },
    /** Only for a repository in a folder. */
    async corrupt() {
      const packs = await filesUnder(path.join(repository, 'data'));
      const sizes = await Promise.all(packs.map(async (pack) => ({ pack, size: (await stat(pack)).size })));
      const largest = sizes.sort((a, b) => b.size - a.size)[0]!;
      await chmod(largest.pack, 0o600);
      const handle = await open(largest.pack, 'r+');
      await handle.write(Buffer.alloc(64, 0x58), 0, 64, Math.floor(largest.size / 2));
      await handle.close();
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
