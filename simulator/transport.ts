/**
 * Faults below the contract: delays, sockets reset or left hanging, and answers whose bodies are
 * cut short or break the contract's shape. Everything that holds a timer or a socket is tracked in
 * `Holds`, so close() ends promptly and leaves nothing that keeps the process (or jest) alive.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Corruption, TransportFault } from './faults';
import { FAULT_HEADER } from './faults';
import type { SimResponse } from './http';
import type { MediaDamage } from './scenario';

export class Holds {
  private readonly sleepers = new Map<NodeJS.Timeout, (completed: boolean) => void>();
  private readonly hanging = new Map<Socket, NodeJS.Timeout>();
  private closed = false;

  /** Resolves true after `ms`, or false at once if the simulator is (or gets) closed first. */
  sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleepers.delete(timer);
        resolve(true);
      }, ms);
      this.sleepers.set(timer, resolve);
    });
  }

  /** Keep `socket` open without answering for `ms`, then close it (earlier if the client gives up). */
  hang(socket: Socket, ms: number): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const release = (): void => {
      const timer = this.hanging.get(socket);
      if (timer !== undefined) clearTimeout(timer);
      this.hanging.delete(socket);
    };
    this.hanging.set(
      socket,
      setTimeout(() => {
        release();
        socket.destroy();
      }, ms),
    );
    socket.once('close', release);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Wake every sleeper (with false), destroy every hanging socket, refuse new holds. */
  closeAll(): void {
    this.closed = true;
    for (const [timer, resolve] of this.sleepers) {
      clearTimeout(timer);
      resolve(false);
    }
    this.sleepers.clear();
    for (const [socket, timer] of this.hanging) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.hanging.clear();
  }
}

/** Carry out a reset or hang on the request's socket (no answer is written either way). */
export function applyTransportFault(socket: Socket, fault: TransportFault, holds: Holds): void {
  if (fault.kind === 'reset') {
    // A TCP RST where the platform allows it (the client sees ECONNRESET), else a plain close.
    if (typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
    else socket.destroy();
    return;
  }
  holds.hang(socket, fault.ms);
}

const asBuffer = (body: Buffer | string): Buffer => (typeof body === 'string' ? Buffer.from(body, 'utf8') : body);

/** The same 200, its body cut to half its length: a JSON body no longer parses, a video stops half-way. */
function truncated(response: SimResponse, fault: string): SimResponse {
  const body = asBuffer(response.body);
  return {
    ...response,
    body: body.subarray(0, Math.floor(body.length / 2)),
    headers: { ...response.headers, [FAULT_HEADER]: fault },
  };
}

/** What a CDN's bot wall answers instead of a file, with a 200. */
function challengePage(headers: Record<string, string>): SimResponse {
  return {
    status: 200,
    contentType: 'text/html',
    body: '<!DOCTYPE html><html><title>Just a moment...</title></html>',
    headers,
  };
}

/** The wrong type for a value: strings become numbers, everything else a string. */
function wrongType(value: unknown): unknown {
  if (typeof value === 'string') return 12345;
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  return JSON.stringify(value);
}

/**
 * The same 200, JSON still, but off the contract: every other top-level field dropped (the first
 * one, usually the id, always), the rest of the wrong type. A non-JSON body (a file) becomes the
 * HTML challenge page a CDN answers with.
 */
function offContract(response: SimResponse): SimResponse {
  const headers = { ...response.headers, [FAULT_HEADER]: 'contractBreak' };
  if (response.contentType !== 'application/json') return challengePage(headers);
  const value: unknown = JSON.parse(asBuffer(response.body).toString('utf8'));
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { ...response, body: '"unexpected"', headers };
  const broken: Record<string, unknown> = {};
  Object.entries(value).forEach(([key, field], index) => {
    if (index % 2 === 1) broken[key] = wrongType(field);
  });
  return { ...response, body: JSON.stringify(broken), headers };
}

/** Corrupt a successful answer; errors and other statuses pass unchanged. */
export function corrupt(response: SimResponse, corruption: Corruption): SimResponse {
  if (response.status < 200 || response.status >= 300) return response;
  return corruption === 'malformed' ? truncated(response, 'malformed') : offContract(response);
}

/** Same length, every byte from the middle on replaced by noise derived from the body (so repeatable). */
function scrambled(body: Buffer): Buffer {
  const out = Buffer.from(body);
  let block = createHash('sha256').update(body).digest();
  for (let i = Math.floor(out.length / 2); i < out.length; i++) {
    if (i % block.length === 0) block = createHash('sha256').update(block).digest();
    out[i] = block[i % block.length];
  }
  return out;
}

/** Break a successful media answer the way `media: {kind}` says; errors pass unchanged. */
export function damageMedia(response: SimResponse, kind: MediaDamage): SimResponse {
  if (response.status < 200 || response.status >= 300) return response;
  const headers = { ...response.headers, [FAULT_HEADER]: 'media' };
  if (kind === 'truncated') return truncated(response, 'media');
  if (kind === 'html') return challengePage(headers);
  const body = kind === 'empty' ? Buffer.alloc(0) : scrambled(asBuffer(response.body));
  return { ...response, body, headers };
}
