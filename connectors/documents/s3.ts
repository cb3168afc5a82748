// Documents and history archives in an S3 bucket (DOCUMENTS_URL), shared by every worker and API
// process: the same layout, chain and write-once rule as the filesystem store, under the URL's prefix:
// `<prefix><transitionId>/<runId>/<documentId>.{md,html,json}` and `<prefix><transitionId>/<runId>/archive/<name>`.
import { createHash } from 'node:crypto';
import {
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3Location } from '../../config/config.js';
import { assertSafe, chainOrder } from './layout.js';
import type { DocumentMeta, DocumentStore } from './port.js';

/**
 * Objects under one prefix of a bucket, by key relative to that prefix. Generic over keys, so any
 * store of the project can keep its objects there.
 */
export interface ObjectBucket {
  /** Writes `key` unless it exists (a conditional put, `If-None-Match: *`); false when it existed. */
  putNew(key: string, body: Buffer | string, contentType: string): Promise<boolean>;
  /** Writes `key`; on a versioned bucket the earlier content stays as an older version. */
  put(key: string, body: Buffer | string, contentType: string): Promise<void>;
  get(key: string): Promise<Buffer | null>;
  /** The names of the "folders" right under `folder` (a key prefix ending in `/`). */
  folders(folder: string): Promise<string[]>;
  /** Every key under `folder`, relative to the bucket's prefix. */
  keys(folder: string): Promise<string[]>;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

/** The bucket of `location` through `client`. */
export function s3Bucket(location: S3Location, client = s3Client(location)): ObjectBucket {
  const { bucket, prefix } = location;

  async function list(folder: string, delimiter: string | undefined) {
    const keys: string[] = [];
    const folders: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix + folder,
          Delimiter: delimiter,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(prefix.length));
      for (const common of page.CommonPrefixes ?? [])
        if (common.Prefix)
          folders.push(common.Prefix.slice(prefix.length + folder.length).replace(/\/$/, ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { keys, folders };
  }

  return {
    async putNew(key, body, contentType) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: prefix + key,
            Body: body,
            ContentType: contentType,
            IfNoneMatch: '*',
          }),
        );
        return true;
      } catch (error) {
        // 412: the key exists. 409: another conditional put of the key is in flight right now.
        if (statusOf(error) === 412 || statusOf(error) === 409) return false;
        throw error;
      }
    },
    async put(key, body, contentType) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: body, ContentType: contentType }),
      );
    },
    async get(key) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + key }));
        return Buffer.from(await answer.Body!.transformToByteArray());
      } catch (error) {
        if (statusOf(error) === 404) return null;
        throw error;
      }
    },
    async folders(folder) {
      return (await list(folder, '/')).folders;
    },
    async keys(folder) {
      return (await list(folder, undefined)).keys;
    },
  };
}

export function s3Client(location: S3Location): S3Client {
  return new S3Client({
    region: location.region,
    forcePathStyle: location.forcePathStyle,
    ...(location.endpoint ? { endpoint: location.endpoint } : {}),
    ...(location.credentials ? { credentials: location.credentials } : {}),
    // A store that does not answer fails the activity (Temporal retries it) instead of hanging it.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    maxAttempts: 3,
  });
}

/**
 * Refuses a bucket without versioning: the store never replaces a document (conditional puts), and
 * versioning (with object lock, best) keeps anyone else's overwrite or delete from destroying one.
 */
export async function checkWriteOnceBucket(location: S3Location, client = s3Client(location)): Promise<void> {
  let status: string | undefined;
  try {
    status = (await client.send(new GetBucketVersioningCommand({ Bucket: location.bucket }))).Status;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`DOCUMENTS_URL: the bucket ${location.bucket} cannot be read (${reason})`, {
      cause: error,
    });
  }
  if (status !== 'Enabled')
    throw new Error(
      `DOCUMENTS_URL: the bucket ${location.bucket} must have versioning enabled (object lock is better still), so a written document cannot be replaced`,
    );
}

const contentTypes = {
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
  json: 'application/json',
  archive: 'application/octet-stream',
};

/** The document store on a bucket; the bucket's versioning is checked by `checkWriteOnceBucket` at start. */
export function createS3DocumentStore(bucket: ObjectBucket): DocumentStore {
  const runFolder = (transitionId: string, runId: string) => {
    assertSafe(transitionId, runId);
    return `${transitionId}/${runId}/`;
  };

  async function readMeta(folder: string, id: string): Promise<DocumentMeta | null> {
    const bytes = await bucket.get(`${folder}${id}.json`);
    return bytes ? (JSON.parse(bytes.toString('utf8')) as DocumentMeta) : null;
  }

  return {
    async writeOnce(run, meta, files) {
      assertSafe(meta.id);
      const folder = runFolder(run.transitionId, run.runId);
      const existing = await readMeta(folder, meta.id);
      if (existing) return existing;
      if (createHash('sha256').update(files.md).digest('hex') !== meta.sha256)
        throw new Error(`document ${meta.id}: sha256 does not match its Markdown`);
      // The bodies first, the metadata last: a document exists once its .json does. Nothing is ever
      // replaced: a body an interrupted attempt left stays, and the metadata hashes what is stored.
      let stored = meta;
      if (!(await bucket.putNew(`${folder}${meta.id}.md`, files.md, contentTypes.md))) {
        const markdown = (await bucket.get(`${folder}${meta.id}.md`))!;
        stored = { ...meta, sha256: createHash('sha256').update(markdown).digest('hex') };
      }
      await bucket.putNew(`${folder}${meta.id}.html`, files.html, contentTypes.html);
      if (await bucket.putNew(`${folder}${meta.id}.json`, JSON.stringify(stored, null, 2), contentTypes.json))
        return stored;
      return (await readMeta(folder, meta.id))!;
    },
    async list(run) {
      const folder = runFolder(run.transitionId, run.runId);
      const ids = (await bucket.keys(folder))
        .map((key) => key.slice(folder.length))
        .filter((name) => !name.includes('/') && name.endsWith('.json'))
        .map((name) => name.slice(0, -'.json'.length))
        .sort();
      const metas = await Promise.all(ids.map((id) => readMeta(folder, id)));
      return chainOrder(metas.filter((meta): meta is DocumentMeta => meta !== null));
    },
    async read(run, documentId, format) {
      assertSafe(documentId);
      const folder = runFolder(run.transitionId, run.runId);
      // A body without its metadata is an interrupted write, not a document yet.
      if (!(await readMeta(folder, documentId))) return null;
      return bucket.get(`${folder}${documentId}.${format}`);
    },
    async writeArchive(run, name, data) {
      assertSafe(name);
      await bucket.put(
        `${runFolder(run.transitionId, run.runId)}archive/${name}`,
        data,
        contentTypes.archive,
      );
    },
    async readArchive(run, name) {
      assertSafe(name);
      return bucket.get(`${runFolder(run.transitionId, run.runId)}archive/${name}`);
    },
    async runIds(transitionId) {
      assertSafe(transitionId);
      return bucket.folders(`${transitionId}/`);
    },
    // `_` is no transition id's first character, so `_inputs/` is never taken for a transition.
    async writeInput(transitionId, sha256, data) {
      assertSafe(transitionId, sha256);
      if (createHash('sha256').update(data).digest('hex') !== sha256)
        throw new Error(`input ${sha256}: the bytes do not hash to it`);
      await bucket.putNew(`_inputs/${transitionId}/${sha256}.json`, data, contentTypes.json);
    },
    async readInput(transitionId, sha256) {
      assertSafe(transitionId, sha256);
      const bytes = await bucket.get(`_inputs/${transitionId}/${sha256}.json`);
      if (bytes && createHash('sha256').update(bytes).digest('hex') !== sha256)
        throw new Error(`input ${sha256} of ${transitionId} is corrupt`);
      return bytes;
    },
  };
}
