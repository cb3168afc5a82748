// What every page a person opens without an API key shares (approval, intake, reveal, codec
// sign-in): one small inline stylesheet that works on a phone, the MSP's name, the same-origin
// check a real browser passes, and the mark that makes a request count as a failed link attempt.
import type { Request, Response } from 'express';
import type { Config } from '../config/config.js';
import type { TemplateRenderer } from '../templates/render.js';

export type MspIdentity = Config['msp'];

/**
 * A cross-site form post. Browsers name where a request comes from in `Sec-Fetch-Site` (a header no
 * page can set); a same-origin page sends `same-origin`. Under `Referrer-Policy: no-referrer` a real
 * browser sends `Origin: null` even for its own page, so Origin alone cannot tell. Without the fetch
 * metadata (an older browser, or a script such as curl) the Origin, when present, must be ours.
 */
export function isCrossOrigin(req: Request, publicOrigin: string): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site !== 'same-origin';
  const origin = req.get('origin');
  return origin !== undefined && origin !== publicOrigin;
}

/**
 * Marks the answer as a failed link attempt (an unknown, forged or expired token, or a wrong key):
 * only these count toward the per-address limit, so a person pressing a button twice never locks
 * themselves out.
 */
export function countAsFailedAttempt(res: Response): void {
  res.locals.failedLinkAttempt = true;
}

export function isFailedAttempt(res: Response): boolean {
  return res.locals.failedLinkAttempt === true;
}

export interface PublicPageDeps {
  pages: TemplateRenderer;
  msp: MspIdentity;
}

/** Renders `template` inside the public layout and sends it, never cached. */
export async function sendPublicPage(
  deps: PublicPageDeps,
  res: Response,
  status: number,
  page: { title: string; template: string; context: Record<string, unknown> },
): Promise<void> {
  const context = { ...page.context, msp: deps.msp };
  const body = await deps.pages.render(page.template, context);
  const html = await deps.pages.render('pages/layout.html.hbs', { ...context, title: page.title, body });
  res.status(status).set('Cache-Control', 'no-store').type('html').send(html);
}
