import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MailNotSentError } from '../../connectors/mail/port.js';
import { createSmtpMailer } from '../../connectors/mail/smtp.js';
import { freePort } from '../support/ports.js';

type Ending = 'accept' | 'refuse-recipient' | 'vanish-after-final-dot';

/** Just enough SMTP to end a session the way `ending` says (nodemailer, the client, is the real one). */
function scriptedServer(ending: Ending): Promise<{ url: string; server: Server; received: () => number }> {
  let received = 0;
  const server = createServer((socket) => {
    let buffer = '';
    let inData = false;
    socket.write('220 scripted ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      if (inData) {
        if (!buffer.includes('\r\n.\r\n')) return;
        received += 1;
        inData = false;
        buffer = '';
        if (ending === 'vanish-after-final-dot') socket.destroy();
        else socket.write('250 queued\r\n');
        return;
      }
      let end;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end).toUpperCase();
        buffer = buffer.slice(end + 2);
        if (line.startsWith('EHLO')) socket.write('250 scripted\r\n');
        else if (line.startsWith('RCPT'))
          socket.write(ending === 'refuse-recipient' ? '550 no such user\r\n' : '250 ok\r\n');
        else if (line.startsWith('DATA')) {
          inData = true;
          socket.write('354 go ahead\r\n');
          return;
        } else if (line.startsWith('QUIT')) socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `smtp://127.0.0.1:${port}`, server, received: () => received });
    }),
  );
}

const mail = {
  to: ['dana@acme.example'],
  subject: 'Approval needed',
  text: 'Review and decide',
  html: '<p>Review and decide</p>',
  idempotencyKey: 'approval:offboarding-acme:run:data-export-1:request:dana@acme.example',
};

let servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  servers = [];
});

async function sendThrough(ending: Ending) {
  const scripted = await scriptedServer(ending);
  servers.push(scripted.server);
  const sent = createSmtpMailer(scripted.url, 'runbooks@msp.example').send(mail);
  return { sent, received: scripted.received };
}

describe('the SMTP mailer tells a message that certainly did not go from one that may have', () => {
  it('no server: certainly not sent', async () => {
    const mailer = createSmtpMailer(`smtp://127.0.0.1:${await freePort()}`, 'runbooks@msp.example');
    await expect(mailer.send(mail)).rejects.toBeInstanceOf(MailNotSentError);
  });

  it('a recipient refused: certainly not sent', async () => {
    const { sent, received } = await sendThrough('refuse-recipient');
    await expect(sent).rejects.toBeInstanceOf(MailNotSentError);
    expect(received()).toBe(0);
  });

  it('the connection lost after the final dot: an error that leaves it open', async () => {
    const { sent, received } = await sendThrough('vanish-after-final-dot');
    const error = await sent.then(
      () => null,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(MailNotSentError);
    expect(received()).toBe(1);
  });

  it('accepted: sent', async () => {
    const { sent, received } = await sendThrough('accept');
    await expect(sent).resolves.toBeUndefined();
    expect(received()).toBe(1);
  });
});
