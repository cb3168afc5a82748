import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { hostPort, reachableHost } from '../config/addresses.js';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Mailbox {
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface MailboxOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Loopback unless the embedded run's HOST says otherwise. */
  host?: string;
  onMessage?: (raw: Buffer) => void;
}

/**
 * A local SMTP mailbox for the embedded run and the tests: accepts any message on `host` and
 * keeps it as an .eml file in `dir`, so the API's /mailbox page can show it and it survives restarts.
 */
export async function startMailbox(
  dir: string,
  { port = 0, host = '127.0.0.1', onMessage }: MailboxOptions = {},
): Promise<Mailbox> {
  await mkdir(dir, { recursive: true });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const name = `${Date.now()}-${randomBytes(4).toString('hex')}.eml`;
        writeFile(path.join(dir, name), raw).then(
          () => {
            onMessage?.(raw);
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `smtp://${hostPort(reachableHost(host), actual)}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface StoredMessage {
  id: string;
  mail: ParsedMail;
}

const messageName = /^\d+-[0-9a-f]{8}\.eml$/;

/** The mailbox's messages, newest first. */
export async function readMailbox(dir: string): Promise<StoredMessage[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => messageName.test(name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  names.sort().reverse();
  return Promise.all(
    names.map(async (name) => ({
      id: name.slice(0, -4),
      mail: await simpleParser(await readFile(path.join(dir, name))),
    })),
  );
}

export async function readMessage(dir: string, id: string): Promise<ParsedMail | null> {
  if (!messageName.test(`${id}.eml`)) return null;
  try {
    return await simpleParser(await readFile(path.join(dir, `${id}.eml`)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
