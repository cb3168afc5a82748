// The `s3` adapter of the object-storage port (`@aws-sdk/client-s3`, any S3-compatible server):
// uploads carry their SHA-256 (x-amz-checksum-sha256), so a server that checks it refuses a body
// changed on the way; every upload is read back before it counts, and a deletion removes every
// version of every key and is only done when both listings (keys and versions) come back empty.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type {
  AutomationEvidence,
  CommandRun,
  ExportedObject,
  Verification,
} from '../../domain/automation.js';
import type { S3Settings } from '../connections/settings.js';
import { ConnectorError, authRefused, notConfigured, unreachable, verificationFailed } from '../failures.js';
import type { ObjectStorage } from './port.js';

/** The client library and its installed version, which the certificate names as the tool. */
const tool = '@aws-sdk/client-s3';
const toolVersion = (createRequire(import.meta.url)(`${tool}/package.json`) as { version: string }).version;

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function sha256OfStream(body: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

export function createS3Storage(
  connection: { id: string; settings: S3Settings },
  secret: string,
): ObjectStorage {
  const { settings } = connection;
  const base = settings.prefix ? `${settings.prefix.replace(/\/+$/, '')}/` : '';
  const target = `${settings.endpoint.replace(/\/+$/, '')}/${settings.bucket}${base ? `/${base}` : '/'}`;
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: secret },
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    maxAttempts: 2,
  });
  const locationOf = (key: string) => `s3://${settings.bucket}/${key}`;

  function named(error: unknown, during: string): ConnectorError {
    if (error instanceof ConnectorError) return error;
    const name = error instanceof S3ServiceException ? error.name : '';
    const message = error instanceof Error ? error.message : String(error);
    if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied'].includes(name))
      return authRefused(`${target}: ${name}: cannot ${during}`);
    if (name === 'NoSuchBucket') return notConfigured(`${target}: there is no bucket ${settings.bucket}`);
    if (['BadDigest', 'XAmzContentSHA256Mismatch', 'InvalidDigest'].includes(name))
      return verificationFailed(`${target}: the server refused the checksum: cannot ${during}`);
    return unreachable(`${target}: cannot ${during}: ${name || message}`);
  }

  async function call<T>(during: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw named(error, during);
    }
  }

  function request(command: string, response: unknown): CommandRun {
    return {
      command,
      exitCode: 0,
      outputSha256: createHash('sha256')
        .update(JSON.stringify(response ?? null))
        .digest('hex'),
      at: new Date().toISOString(),
    };
  }

  async function verify(object: ExportedObject): Promise<void> {
    const key = object.location.slice(`s3://${settings.bucket}/`.length);
    const head = await call(`read ${key} back`, () =>
      client.send(new HeadObjectCommand({ Bucket: settings.bucket, Key: key })),
    );
    if (head.ContentLength !== object.bytes)
      throw verificationFailed(
        `${object.location}: ${head.ContentLength} bytes in the bucket, ${object.bytes} in the manifest`,
      );
    const read = await call(`read ${key} back`, async () => {
      const got = await client.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key }));
      return sha256OfStream(got.Body as Readable);
    });
    if (read.sha256 !== object.sha256)
      throw verificationFailed(
        `${object.location}: SHA-256 ${read.sha256} in the bucket, ${object.sha256} in the manifest`,
      );
  }

  /** Every (key, version) under `prefix`: versions and delete markers, or the keys of an unversioned bucket. */
  async function everyVersion(prefix: string): Promise<{ Key: string; VersionId?: string }[]> {
    const found: { Key: string; VersionId?: string }[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await call('list the versions', () =>
        client.send(
          new ListObjectVersionsCommand({
            Bucket: settings.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
        ),
      );
      for (const entry of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])])
        if (entry.Key)
          found.push({
            Key: entry.Key,
            ...(entry.VersionId && entry.VersionId !== 'null' ? { VersionId: entry.VersionId } : {}),
          });
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
    return found;
  }

  async function keysUnder(prefix: string): Promise<number> {
    const page = await call('list the keys', () =>
      client.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: prefix })),
    );
    return page.KeyCount ?? page.Contents?.length ?? 0;
  }

  return {
    async check() {
      const keys = await keysUnder(base);
      return { detail: `listed ${target} (${keys ? 'not empty' : 'empty'})` };
    },

    async upload(name, file) {
      const key = `${base}${name}`;
      const [sha256, { size }] = await Promise.all([sha256OfFile(file), stat(file)]);
      await call(`upload ${key}`, () =>
        client.send(
          new PutObjectCommand({
            Bucket: settings.bucket,
            Key: key,
            Body: createReadStream(file),
            ContentLength: size,
            ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          }),
        ),
      );
      const object: ExportedObject = {
        location: locationOf(key),
        bytes: size,
        sha256,
        uploadedAt: new Date().toISOString(),
        verifiedAt: '',
      };
      await verify(object);
      return { ...object, verifiedAt: new Date().toISOString() };
    },

    verify,

    async deletePrefix(prefix) {
      const startedAt = new Date().toISOString();
      const scoped = `${base}${prefix}`;
      if (!scoped) throw notConfigured(`${target}: refusing to delete a whole bucket: name a prefix`);
      const commands: CommandRun[] = [];
      let versions = await everyVersion(scoped);
      let deleted = 0;
      // Deleted a thousand at a time (DeleteObjects' limit), listed again until nothing is left.
      for (let round = 0; versions.length > 0 && round < 100; round++) {
        for (let start = 0; start < versions.length; start += 1000) {
          const batch = versions.slice(start, start + 1000);
          const answer = await call(`delete under ${scoped}`, () =>
            client.send(
              new DeleteObjectsCommand({ Bucket: settings.bucket, Delete: { Objects: batch, Quiet: true } }),
            ),
          );
          if (answer.Errors?.length)
            throw verificationFailed(
              `${target}: ${answer.Errors.length} version(s) not deleted: ${answer.Errors[0]?.Code} ${answer.Errors[0]?.Message ?? ''}`,
            );
          deleted += batch.length;
          commands.push(
            request(`S3 DeleteObjects of ${batch.length} version(s) under ${locationOf(scoped)}`, answer),
          );
        }
        versions = await everyVersion(scoped);
      }
      const at = new Date().toISOString();
      const keysLeft = await keysUnder(scoped);
      const verifications: Verification[] = [
        {
          what: `ListObjectsV2 under ${locationOf(scoped)} is empty`,
          passed: keysLeft === 0,
          at,
          detail: `${keysLeft} key(s)`,
        },
        {
          what: `ListObjectVersions under ${locationOf(scoped)} is empty (no version or delete marker left)`,
          passed: versions.length === 0,
          at,
          detail: `${versions.length} version(s)`,
        },
      ];
      const failed = verifications.find((check) => !check.passed);
      if (failed) throw verificationFailed(`${target}: "${failed.what}" did not hold (${failed.detail})`);
      const evidence: AutomationEvidence = {
        connector: 's3',
        connection: connection.id,
        target,
        commands,
        verifications,
        facts: { deletedVersions: String(deleted) },
        sanitization: {
          mediaType: 'S3 objects and all their versions',
          mediaId: locationOf(scoped),
          category: 'Purge',
          technique: 'logical deletion: S3 DeleteObjects of every version and delete marker under the prefix',
          tool,
          toolVersion,
          verificationMethod: verifications.map((check) => check.what).join('; '),
          verificationResult: 'passed',
        },
        startedAt,
        finishedAt: new Date().toISOString(),
      };
      return evidence;
    },
  };
}
