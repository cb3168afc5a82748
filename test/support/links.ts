import type { ParsedMail } from 'mailparser';

/** The personal link of `kind` in an email's text part. */
export function linkIn(mail: ParsedMail, kind: 'approvals' | 'intake' | 'reveal'): string {
  const match = new RegExp(`(http://[^\\s>]+/${kind}/[A-Za-z0-9_.-]+)`).exec(mail.text ?? '');
  if (!match) throw new Error(`no ${kind} link in the mail "${mail.subject}"`);
  return match[1]!;
}

/** The CSRF value a link page's form carries. */
export function csrfIn(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match)
    throw new Error(
      `no form on the page: ${html
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .slice(-300)}`,
    );
  return match[1]!;
}

/** Submits a link page's form as a browser would. */
export function postForm(link: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}
