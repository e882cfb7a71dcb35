import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import type { ProviderProfile } from '../../workflows/types';
import { NotFoundError } from './errors';
import type { WebhookReceiver } from './webhook-receiver';

/**
 * What a gateway route is, as data: path template, body and answer schemas, handler. The server
 * matches and validates with it and the OpenAPI description is generated from it, so a route
 * cannot exist undescribed.
 */

export interface GatewayContext {
  client: Client;
  taskQueue: string;
  /** Provider capabilities specs and scenes are checked against (the client's provider config). */
  profiles: ProviderProfile[];
  webhooks: WebhookReceiver;
  /** Where the workers store assets (SORA_SERIES_DATA_DIR); unset: this gateway serves no videos. */
  dataDir?: string;
  /** The gateway's URL as browsers reach it, for the review page's link in a series' memo; unset: unknown. */
  publicUrl?: string;
}

export interface RouteRequest<B> {
  /** Path parameters, URL-decoded. */
  params: Record<string, string>;
  body: B;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** Bytes sent as they are, not as JSON: a page, its script, a video (streamed). */
export interface Content {
  type: string;
  length: number;
  data: Buffer | Readable;
}

export interface Answer {
  status: number;
  /** Sent as JSON unless `content` is given. */
  body?: unknown;
  content?: Content;
  headers?: Record<string, string>;
}

/** An answer as the description lists it: JSON (`schema`), other bytes (`media`), or nothing but headers. */
export interface Described {
  description: string;
  schema?: z.ZodType;
  /** Media types answered instead of JSON (`text/html`, `video/mp4`). */
  media?: string[];
  /** Response headers worth naming (Location, Set-Cookie, Content-Range), with what they hold. */
  headers?: Record<string, string>;
}

/** A query or header parameter a route reads, as the description lists it. */
export interface Parameter {
  name: string;
  in: 'query' | 'header';
  description: string;
}

export interface Route {
  method: 'GET' | 'POST';
  /** OpenAPI path template; `{name}` matches one path segment. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** The JSON body, as described; validated with `check` (default: this). */
  body?: z.ZodType;
  check?: z.ZodType;
  /** An empty body stands for `{}` unless required. */
  bodyRequired?: boolean;
  /** Hand the body over unparsed (webhooks: the signature covers the exact bytes). */
  raw?: boolean;
  maxBodyBytes?: number;
  parameters?: Parameter[];
  responses: Record<number, Described>;
  /** Statuses answered with the Error body. */
  errors: number[];
  /** Answered without the gateway's bearer token (health, the description, signed webhooks). */
  open?: boolean;
  /** Opened by a browser's navigation, which cannot send a header: takes the token once as `?token=` (auth.ts). */
  page?: boolean;
  handle(ctx: GatewayContext, req: RouteRequest<unknown>): Promise<Answer>;
}

/** A route with its handler typed by its body schema. */
export function route<B extends z.ZodType>(
  def: Omit<Route, 'handle' | 'body'> & {
    body?: B;
    handle(ctx: GatewayContext, req: RouteRequest<z.output<B>>): Promise<Answer>;
  },
): Route {
  return def as Route;
}

/** In a path, `{id}` is the series name (`/series/harbor-tales`) or the whole id URL-encoded (`/series/series%2Fharbor-tales`). */
export const ID_PARAM = 'id';

/** Matches a path against a route's template; params URL-decoded (a bad escape is no match). */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const names: string[] = [];
  const escaped = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${escaped.replace(/\{(\w+)\}/g, (_m, name: string) => (names.push(name), '([^/]+)'))}$`);
  const match = pattern.exec(path);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  try {
    names.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1])));
  } catch {
    throw new NotFoundError(`malformed escape in ${path}; percent-encode the id (encodeURIComponent)`);
  }
  return params;
}
