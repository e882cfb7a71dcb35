import { z } from 'zod';
import { seriesSpecSchema } from '../spec/spec-schema';
import type { Route } from './route';
import * as s from './schemas';

/**
 * The OpenAPI 3.1 description, generated from the route table and its zod schemas (OpenAPI 3.1
 * schemas are JSON Schema 2020-12, what z.toJSONSchema writes). Named schemas become components
 * and are referenced wherever they appear.
 */

const NAMED: Record<string, z.ZodType> = {
  SeriesSpec: seriesSpecSchema,
  NewScene: s.newSceneSchema,
  Error: s.errorSchema,
  SeriesReport: s.seriesReportSchema,
  Budget: s.budgetSchema,
  WebhookAnswer: s.webhookAnswerSchema,
};

const ERROR_TEXT: Record<number, string> = {
  400: 'Bad request: the body or a field is wrong; `fields` names each one and its fix.',
  401: "The webhook's signature or timestamp does not verify, or (other routes) the gateway's bearer token (or the review page's session cookie) is missing or wrong.",
  403: "A request carrying the review page's session cookie came from another origin than the gateway's own page.",
  404: 'No such series (or provider, for webhooks).',
  409: 'The series already exists (start), or has ended (messages), or ended without a result (takes).',
  413: 'The body is too large.',
  415: 'The body is not JSON.',
  416: 'The Range starts past the end of the file (`Content-Range: bytes */<size>` says its size).',
  422: 'The series refused the message; the message gives its reason.',
  503: 'Temporal does not answer; try again.',
};

export function openApiDocument(
  routes: Route[],
  info: { version: string; serverUrl?: string; bearer?: boolean },
): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  const ids = new Map<z.ZodType, string>();
  const name = (schema: z.ZodType, fallback: string) => {
    let id = ids.get(schema);
    if (!id) {
      id = Object.entries(NAMED).find(([, named]) => named === schema)?.[0] ?? fallback;
      ids.set(schema, id);
      registry.add(schema, { id });
    }
    return { $ref: `#/components/schemas/${id}` };
  };
  for (const [id, schema] of Object.entries(NAMED)) name(schema, id);

  const paths: Record<string, Record<string, unknown>> = {};
  const headersOf = (headers: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(headers).map(([header, description]) => [header, { description, schema: { type: 'string' } }]),
    );
  for (const route of routes) {
    const op = upperFirst(route.operationId);
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map(([, param]) => ({
        name: param,
        in: 'path',
        required: true,
        schema: { type: 'string' },
        description: PATH_PARAMETERS[param] ?? param,
      })),
      ...(route.parameters ?? []).map((p) => ({ ...p, required: false, schema: { type: 'string' } })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(route.responses)) {
      responses[status] = {
        description: answer.description,
        ...(answer.headers ? { headers: headersOf(answer.headers) } : {}),
        ...(answer.schema
          ? { content: { 'application/json': { schema: name(answer.schema, `${op}Response${status}`) } } }
          : {}),
        // Text is a string; a video is bytes, which OpenAPI 3.1 describes by its media type alone.
        ...(answer.media
          ? {
              content: Object.fromEntries(
                answer.media.map((type) => [type, type.startsWith('text/') ? { schema: { type: 'string' } } : {}]),
              ),
            }
          : {}),
      };
    }
    for (const status of info.bearer && !route.open ? [401, ...route.errors] : route.errors) {
      responses[status] = {
        description: ERROR_TEXT[status] ?? 'Error.',
        content: { 'application/json': { schema: name(s.errorSchema, 'Error') } },
      };
    }
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(info.bearer && !route.open ? { security: [{ bearer: [] }] } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: !!route.bodyRequired,
              content: { 'application/json': { schema: name(route.body, `${op}Request`) } },
            },
          }
        : {}),
      responses,
    };
  }

  const generated = z.toJSONSchema(registry, {
    uri: (id) => `#/components/schemas/${id}`,
    io: 'input',
    unrepresentable: 'any',
  }) as { schemas: Record<string, Record<string, unknown>> };
  const schemas = Object.fromEntries(
    Object.entries(generated.schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'sora-series gateway',
      version: info.version,
      description:
        'Start, steer and read durable video series over HTTP, and receive provider webhooks. Errors are `{error: {message, fields?}}`.',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: {
      schemas,
      ...(info.bearer ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {}),
    },
  };
}

const PATH_PARAMETERS: Record<string, string> = {
  id: 'The series: its name (`harbor-tales` means `series/harbor-tales`) or its whole id URL-encoded (`series%2Fharbor-tales`).',
  provider: 'The provider, as named in the provider config (an official-contract provider).',
  index: "The scene's index, from 1.",
  take: 'The take of that scene, from 1.',
  file: 'review.js or review.css.',
  name: 'A character of the library, by its name (`mira`).',
};

const upperFirst = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
