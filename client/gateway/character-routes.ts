import { z } from 'zod';
import {
  defineCharacter,
  ensureCharacterHandle,
  listCharacters,
  parseCharacterDefinition,
  retireCharacter,
  showCharacter,
} from '../series/characters';
import { characterDefinitionSchemaPublic } from '../spec/character-schema';
import { urlPolicyFromEnv } from '../../common/url-policy';
import { route } from './route';

/** The character library over HTTP: the same functions as `sora-series characters ...` (client/series/characters.ts). */

/** In a path, `{name}` is the library name (`/characters/mira`). */
const NAME_PARAM = 'name';

const refSchema = z.object({
  id: z.string(),
  mention: z.string(),
  hold: z.enum(['kept', 'referenced']).optional(),
  references: z.array(z.string()).optional(),
});
const fileSchema = z.object({ path: z.string(), sha256: z.string() });

export const characterHandleSchema = z
  .object({
    provider: z.string(),
    state: z.enum(['ready', 'refused', 'revoked']),
    ref: refSchema.optional(),
    reason: z.string().optional(),
    createdAt: z.union([z.string(), z.number()]).describe('ISO time (a number of ms in the ensureHandle answer)'),
    costUsd: z.number(),
    origin: z.enum(['created', 'adopted', 'extracted']),
    recreations: z.number().int(),
    madeFor: z.string().optional().describe('The series whose need made it.'),
  })
  .describe("One provider's handle on the character.");

export const characterViewSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    status: z.enum(['preparing', 'active', 'retired', 'invalid']),
    createdAt: z.string(),
    source: z.object({
      clip: z.object({ url: z.string(), sha256: z.string() }).optional(),
      images: z.array(z.object({ url: z.string(), sha256: z.string() })),
    }),
    stills: z.array(fileSchema),
    handles: z.array(characterHandleSchema),
    series: z.array(z.object({ id: z.string(), running: z.boolean(), since: z.string() })),
    adopt: z.record(z.string(), z.string()).optional(),
    extract: z.object({ provider: z.string(), taskId: z.string() }).optional(),
    invalid: z.string().optional(),
  })
  .describe('A library character, as `sora-series characters show --json` prints it.');

const createBody = z.strictObject({
  character: characterDefinitionSchemaPublic,
  on: z.array(z.string().min(1)).optional().describe('Providers whose handle is made now (`create --on`).'),
});

export const characterRoutes = [
  route({
    method: 'POST',
    path: '/characters',
    operationId: 'createCharacter',
    summary: 'Add a character to the library (or check an existing one is defined the same)',
    description:
      'As `sora-series characters create`: every problem of the definition is named (400, `fields`); a name defined differently is 409 naming the fields; with `on`, those handles are made now. Nothing is paid upstream otherwise.',
    body: createBody,
    check: createBody.extend({ character: z.unknown() }),
    bodyRequired: true,
    responses: { 201: { description: 'Stored (or already stored the same).', schema: characterViewSchema } },
    errors: [400, 409, 415, 422],
    handle: async (ctx, req) => {
      const definition = parseCharacterDefinition(req.body.character, {
        profiles: ctx.profiles,
        urlPolicy: urlPolicyFromEnv(process.env),
        source: 'in the request body',
      });
      let view = await defineCharacter(ctx.client, definition, { taskQueue: ctx.taskQueue });
      for (const provider of req.body.on ?? []) await ensureCharacterHandle(ctx.client, definition.name, provider);
      if (req.body.on?.length) view = await showCharacter(ctx.client, definition.name);
      return { status: 201, body: view, headers: { location: `/characters/${encodeURIComponent(view.name)}` } };
    },
  }),
  route({
    method: 'GET',
    path: '/characters',
    operationId: 'listCharacters',
    summary: 'The characters in the library',
    responses: { 200: { description: 'By name.', schema: z.array(characterViewSchema) } },
    errors: [],
    handle: async (ctx) => ({ status: 200, body: await listCharacters(ctx.client, { taskQueue: ctx.taskQueue }) }),
  }),
  route({
    method: 'GET',
    path: `/characters/{${NAME_PARAM}}`,
    operationId: 'getCharacter',
    summary: "A character: source, stills, each provider's handle, the series that use it",
    responses: { 200: { description: 'The character.', schema: characterViewSchema } },
    errors: [404],
    handle: async (ctx, req) => ({ status: 200, body: await showCharacter(ctx.client, req.params[NAME_PARAM]) }),
  }),
  route({
    method: 'POST',
    path: `/characters/{${NAME_PARAM}}/handles`,
    operationId: 'makeCharacterHandle',
    summary: "Make the character's handle on a provider now (made once; asking again answers the same handle)",
    body: z.strictObject({ provider: z.string().min(1, 'must not be empty') }),
    bodyRequired: true,
    responses: {
      200: { description: 'The handle (ready, or refused with its reason).', schema: characterHandleSchema },
    },
    errors: [400, 404, 415, 422],
    handle: async (ctx, req) => ({
      status: 200,
      body: await ensureCharacterHandle(ctx.client, req.params[NAME_PARAM], req.body.provider),
    }),
  }),
  route({
    method: 'POST',
    path: `/characters/{${NAME_PARAM}}/retire`,
    operationId: 'retireCharacter',
    summary: 'Retire a character; 409 while a running series uses it',
    body: z.strictObject({}),
    responses: { 200: { description: 'Retired.', schema: characterViewSchema } },
    errors: [400, 404, 409, 415],
    handle: async (ctx, req) => ({ status: 200, body: await retireCharacter(ctx.client, req.params[NAME_PARAM]) }),
  }),
];
