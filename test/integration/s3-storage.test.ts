// The s3 adapter against a real S3 server (SeaweedFS on loopback, a versioned bucket): uploads
// recorded with size and SHA-256 and read back, a changed object caught against its manifest entry,
// retained objects deleted with every version and delete marker, and each failure named. The
// bucket is looked into with a client of its own, as an auditor of the storage would.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFailureTypes } from '../../domain/automation.js';
import { ConnectorError } from '../../connectors/failures.js';
import { createS3Storage } from '../../connectors/objects/s3.js';
import type { S3Settings } from '../../connectors/connections/settings.js';
import { freePort } from '../support/ports.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';

let server: S3Server;
let dir: string;
const bucket = 'client-exports';

beforeAll(async () => {
  server = await startS3Server();
  await server.createBucket(bucket);
  dir = await mkdtemp(path.join(tmpdir(), 'msp-s3-'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

function storage(overrides: Partial<S3Settings> = {}, secret = server.secretAccessKey) {
  const settings: S3Settings = {
    endpoint: server.endpoint,
    region: 'us-east-1',
    bucket,
    prefix: 'acme',
    accessKeyId: server.accessKeyId,
    forcePathStyle: true,
    ...overrides,
  };
  return createS3Storage({ id: 'acme-exports', settings }, secret);
}

async function fileWith(name: string, content: Buffer | string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

async function bucketSha256(key: string): Promise<string> {
  const got = await server.client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of got.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function versionsUnder(prefix: string): Promise<number> {
  const page = await server.client().send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
  return (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0);
}

async function failureOf(promise: Promise<unknown>): Promise<ConnectorError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConnectorError);
  return error as ConnectorError;
}

describe('the s3 adapter', () => {
  it('checks a connection by listing the bucket; names a refused key, a missing bucket and an unreachable server', async () => {
    expect((await storage().check()).detail).toContain(`/${bucket}/acme/`);
    expect((await failureOf(storage({}, 'wrong-secret').check())).type).toBe(
      connectorFailureTypes.authRefused,
    );
    expect((await failureOf(storage({ bucket: 'no-such-bucket' }).check())).type).toBe(
      connectorFailureTypes.notConfigured,
    );
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect((await failureOf(storage({ endpoint: closed }).check())).type).toBe(
      connectorFailureTypes.unreachable,
    );
  });

  it('uploads with the SHA-256 and reads it back: the manifest entry is what the bucket holds', async () => {
    const content = randomBytes(150_000);
    const object = await storage().upload('export-1/crm.dump', await fileWith('crm.dump', content));
    expect(object).toMatchObject({
      location: `s3://${bucket}/acme/export-1/crm.dump`,
      bytes: content.length,
      sha256: createHash('sha256').update(content).digest('hex'),
    });
    expect(Date.parse(object.verifiedAt)).toBeGreaterThanOrEqual(Date.parse(object.uploadedAt));
    expect(await bucketSha256('acme/export-1/crm.dump')).toBe(object.sha256);
  });

  it('catches an object changed after its upload: the checksum no longer matches the manifest', async () => {
    const object = await storage().upload('export-2/files.tar', await fileWith('files.tar', 'the original'));
    await server
      .client()
      .send(new PutObjectCommand({ Bucket: bucket, Key: 'acme/export-2/files.tar', Body: 'the original!' }));
    const error = await failureOf(storage().verify(object));
    expect(error.type).toBe(connectorFailureTypes.verificationFailed);
    expect(error.message).toContain('bytes in the bucket');
    await server
      .client()
      .send(new PutObjectCommand({ Bucket: bucket, Key: 'acme/export-2/files.tar', Body: 'the originaX' }));
    expect((await failureOf(storage().verify(object))).message).toMatch(/SHA-256 [0-9a-f]{64} in the bucket/);
  });

  it('deletes retained objects with every version and delete marker, then both listings are empty; others stay', async () => {
    const s3 = server.client();
    await storage().upload('retained/a.bin', await fileWith('a.bin', 'version 1'));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'acme/retained/a.bin', Body: 'version 2' }));
    await storage().upload('retained/b.bin', await fileWith('b.bin', 'b'));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'acme/retained/b.bin' }));
    await storage().upload('kept/c.bin', await fileWith('c.bin', 'c'));
    expect(await versionsUnder('acme/retained/')).toBe(4);

    const outcome = await storage().deletePrefix('retained/');
    expect(await versionsUnder('acme/retained/')).toBe(0);
    expect(await versionsUnder('acme/kept/')).toBe(1);
    expect(outcome.facts?.deletedVersions).toBe('4');
    expect(outcome.verifications.map((check) => [check.what, check.passed])).toEqual([
      [`ListObjectsV2 under s3://${bucket}/acme/retained/ is empty`, true],
      [
        `ListObjectVersions under s3://${bucket}/acme/retained/ is empty (no version or delete marker left)`,
        true,
      ],
    ]);
    expect(outcome.sanitization).toMatchObject({
      mediaType: 'S3 objects and all their versions',
      category: 'Purge',
      tool: '@aws-sdk/client-s3',
      verificationResult: 'passed',
    });
    expect(outcome.sanitization!.toolVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await storage().deletePrefix('retained/')).commands).toEqual([]);
  });
});
