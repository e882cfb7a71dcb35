import { z } from 'zod';
import { CHARACTER_NAME, isReservedCharacterName } from '../../workflows/character/definition';
import type { CharacterDefinition } from '../../workflows/character/record';
import { checkUrl, PUBLIC_ONLY, type UrlPolicy } from '../../common/url-policy';
import { unknownProviderProblem } from '../../workflows/provider-rules';
import type { ProviderProfile } from '../../workflows/types';

/**
 * A character of the library as users write it: `characters create <file>`, the gateway's
 * POST /characters and an inline item of a spec's `characters:` list all take this one schema.
 */

/** At most this many reference images (the most any live contract takes per request is 9). */
export const MAX_CHARACTER_IMAGES = 9;

const publicUrl = (policy: UrlPolicy, what: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = checkUrl(value, policy);
      if (problem) ctx.addIssue({ code: 'custom', message: problem.message });
    })
    .describe(what);

export const characterNameSchema = z
  .string()
  .regex(
    CHARACTER_NAME,
    'use 1-64 letters, digits, dash or underscore, starting with a letter or digit (prompts write it as @<name>)',
  )
  .refine((n) => !isReservedCharacterName(n), {
    message: 'must not begin with "character": @character is the one-character form\'s token; pick another name',
  })
  .describe('The library name: prompts mention it as @<name>; its workflow is character/<name>.');

export function characterDefinitionSchema(policy: UrlPolicy) {
  return z
    .strictObject({
      name: characterNameSchema,
      description: z
        .string()
        .trim()
        .min(1, 'must not be empty; describe how the character looks')
        .max(1000, 'must be at most 1000 characters'),
      clip: publicUrl(policy, 'Source clip (2-4 s): a public http(s) URL.').optional(),
      images: z
        .array(publicUrl(policy, 'A reference image (PNG, JPEG or WebP), frontal first.'))
        .min(1, 'list at least one image, or leave images out')
        .max(MAX_CHARACTER_IMAGES, `must be at most ${MAX_CHARACTER_IMAGES} images`)
        .optional(),
      adopt: z
        .record(
          z.string(),
          z
            .string()
            .min(1, 'must not be empty')
            .max(200, 'must be at most 200 characters')
            .regex(/^[^\s@]+$/, 'must be the bare character id (e.g. char_abc), without spaces or @'),
        )
        .refine(
          (ids) => Object.keys(ids).length > 0,
          'names no id: give { <provider>: <character id> } or remove adopt',
        )
        .optional()
        .describe('Existing character ids by provider name.'),
      extract: z
        .strictObject({
          provider: z.string().min(1, 'must not be empty'),
          task: z.string().min(1, 'must not be empty'),
        })
        .optional()
        .describe('Make the character from an earlier generation (a relay-v1 task).'),
    })
    .superRefine((c, ctx) => {
      if (!c.clip && !c.images && !c.adopt && !c.extract)
        ctx.addIssue({
          code: 'custom',
          message: 'give its source: clip, images, adopt or extract (clip and images may go together)',
        });
      if (c.extract && (c.clip || c.adopt))
        ctx.addIssue({
          code: 'custom',
          path: ['extract'],
          message: 'takes its clip from the task; leave clip and adopt out',
        });
    });
}

export const characterDefinitionSchemaPublic = characterDefinitionSchema(PUBLIC_ONLY);
export type CharacterDefinitionInput = z.infer<typeof characterDefinitionSchemaPublic>;

/** Only relay-v1 can make a character from an earlier task. */
const EXTRACTING_CONTRACTS: ReadonlySet<string> = new Set(['relay-v1']);

/** What the configured providers cannot do for this definition (`field: problem; fix`, fields under `at`). */
export function characterProviderIssues(c: CharacterDefinitionInput, profiles: ProviderProfile[], at = ''): string[] {
  const names = profiles.map((p) => p.name);
  const issues: string[] = [];
  for (const provider of Object.keys(c.adopt ?? {})) {
    const problem = unknownProviderProblem(provider, names);
    if (problem) issues.push(`${at}adopt.${provider}: ${problem}`);
  }
  if (c.extract) {
    const extractor = profiles.find((p) => p.name === c.extract!.provider);
    if (!extractor) issues.push(`${at}extract.provider: ${unknownProviderProblem(c.extract.provider, names)}`);
    else if (!EXTRACTING_CONTRACTS.has(extractor.contract))
      issues.push(
        `${at}extract.provider: "${extractor.name}" (${extractor.contract} contract) cannot make a character from a task; extract on a relay-v1 provider or give clip`,
      );
  }
  return issues;
}

/** The workflow's form of a checked definition. */
export function toCharacterDefinition(c: CharacterDefinitionInput): CharacterDefinition {
  return {
    name: c.name,
    description: c.description,
    ...(c.clip ? { clip: c.clip } : {}),
    ...(c.images ? { images: c.images } : {}),
    ...(c.adopt ? { adopt: c.adopt } : {}),
    ...(c.extract ? { extract: { provider: c.extract.provider, taskId: c.extract.task } } : {}),
  };
}
