// Keys generated once into DATA_DIR/keys/ and shared by the API and the worker through DATA_DIR.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/** fsyncs a directory so that entries just created in it survive a power loss (best effort). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Some platforms and file systems cannot open or fsync a directory; the data itself is synced.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}

/** Writes `data` to a new temp file (mode 0600) beside `file` and fsyncs it; returns its path. */
async function syncedTempBeside(file: string, data: string | Buffer): Promise<string> {
  const temp = path.join(path.dirname(file), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

/**
 * Writes `data` to a new file `file` (mode 0600) unless it exists: temp file in the same directory,
 * fsync, then `link` to the final name, which fails with EEXIST instead of replacing anything.
 * Readers never see a partly written file. Returns false when `file` already existed.
 * `beforePublish` runs after the temp file is synced and before the link (tests crash there).
 */
export async function publishNewFile(
  file: string,
  data: string | Buffer,
  beforePublish?: () => void | Promise<void>,
): Promise<boolean> {
  const temp = await syncedTempBeside(file, data);
  try {
    await beforePublish?.();
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp);
  }
  await syncDirectory(path.dirname(file));
  return true;
}

/**
 * Replaces `file` with `data` (mode 0600) at once: temp file in the same directory, fsync, then
 * `rename` over it. A reader, or a crash at any point, finds the old content or the new, never a mix.
 */
export async function replaceFile(file: string, data: string | Buffer): Promise<void> {
  const temp = await syncedTempBeside(file, data);
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(path.dirname(file));
}

function decodeKey(file: string, text: string, bytes: number): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== bytes)
    throw new Error(`key file ${file} holds ${key.length} bytes; expected ${bytes} bytes in base64`);
  return key;
}

/**
 * The key in `file` (base64): read it, or, the first time, create it with `bytes` random bytes,
 * mode 0600, in a directory made with mode 0700. Safe when several processes start at once: the
 * first to publish the file wins and everyone uses its key. Throws when the file holds another length.
 */
export async function loadOrCreateKeyFile(file: string, bytes: number): Promise<Buffer> {
  try {
    return decodeKey(file, await readFile(file, 'utf8'), bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Published whole (temp file, fsync, link), so no process ever reads a half-written key.
  await publishNewFile(file, randomBytes(bytes).toString('base64'));
  return decodeKey(file, await readFile(file, 'utf8'), bytes);
}
