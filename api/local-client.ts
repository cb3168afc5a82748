import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { isLoopbackAddress } from '../config/addresses.js';
import { notFound } from './errors.js';

/**
 * Whether a request comes from a program on this machine: its TCP peer is loopback and it names no
 * other client. The peer is the socket's address, not Express's req.ip, which believes
 * X-Forwarded-For from loopback; and a reverse proxy on this machine reaches the API over loopback
 * on behalf of remote clients, saying so in X-Forwarded-For or Forwarded.
 */
export function isLocalClient(peerAddress: string | undefined, headers: IncomingHttpHeaders): boolean {
  return isLoopbackAddress(peerAddress) && !headers['x-forwarded-for'] && !headers.forwarded;
}

/** Answers every other client the app's own 404, so they cannot even tell the route exists. */
export const localClientsOnly: RequestHandler = (req, _res, next) => {
  next(isLocalClient(req.socket.remoteAddress, req.headers) ? undefined : notFound('no such route'));
};
