import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  ApplicationFailure,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import YAML from 'yaml';
import { urlPolicyFromEnv, type UrlPolicy } from '../../common/url-policy';
import type { characterWorkflow } from '../../workflows/character/workflow';
import { characterWorkflowId } from '../../workflows/ids';
import {
  CHARACTER_WORKFLOW_TYPE,
  CharacterRefusal,
  characterQuery,
  defineCharacterUpdate,
  ensureHandleUpdate,
  retireCharacterUpdate,
  seriesLeftSignal,
  type CharacterDefinition,
  type CharacterHandle,
  type CharacterView,
} from '../../workflows/messages';
import { Characters } from '../../workflows/search-attributes';
import { queryLiteral } from './list';
import type { CastMember, ProviderProfile, SeriesInput } from '../../workflows/types';
import { SpecError } from '../spec/parse-spec';
import { formatIssue } from '../spec/problems';
import { characterDefinitionSchema, characterProviderIssues, toCharacterDefinition } from '../spec/character-schema';
import { syntaxProblem, unreadable } from '../spec/problems';

/**
 * The character library, one function per operation, used by the CLI (`characters ...`), the
 * gateway (`/characters...`) and series starts (inline `characters:` are defined here first).
 * A character is the long-lived workflow `character/<name>` (workflows/character/).
 */

/** A definition that cannot be stored: `issues` name each field and the fix. */
export class CharacterDefinitionError extends Error {
  constructor(
    readonly issues: string[],
    source?: string,
  ) {
    super(`invalid character${source ? ` ${source}` : ''}:\n  - ${issues.join('\n  - ')}`);
    this.name = 'CharacterDefinitionError';
  }
}

export class CharacterNotFoundError extends Error {
  constructor(readonly characterName: string) {
    super(
      `no character "${characterName}" in the library; check the name (sora-series characters list) or create it (sora-series characters create <file>)`,
    );
    this.name = 'CharacterNotFoundError';
  }
}

/** The character's workflow refused: `refusal` is its type (workflows/character/refusals.ts). */
export class CharacterRefusedError extends Error {
  constructor(
    readonly characterName: string,
    readonly refusal: string | undefined,
    message: string,
    /** CharacterInUse: the running series that use it. */
    readonly running: string[] = [],
  ) {
    super(message);
    this.name = 'CharacterRefusedError';
  }
}

export interface DefinitionOptions {
  profiles?: ProviderProfile[];
  urlPolicy?: UrlPolicy;
  /** Names the definition in errors ("in the request body"); a file names itself. */
  source?: string;
  /** Field prefix for issues (`characters[1].`), when the definition sits inside a spec. */
  at?: string;
}

/** Checks a definition as written (schema, then the providers it names); issues name the field. */
export function parseCharacterDefinition(value: unknown, options: DefinitionOptions = {}): CharacterDefinition {
  const at = options.at ?? '';
  const parsed = characterDefinitionSchema(options.urlPolicy ?? urlPolicyFromEnv(process.env)).safeParse(value, {
    reportInput: true,
  });
  if (!parsed.success) {
    const known = { '': ['name', 'description', 'clip', 'images', 'adopt', 'extract'], extract: ['provider', 'task'] };
    const issues = parsed.error.issues
      .flatMap((issue) => formatIssue(issue, known))
      .map((line) => `${at}${line.replace(/^\(spec\)/, '(character)')}`);
    throw new CharacterDefinitionError(issues, options.source);
  }
  const issues = options.profiles ? characterProviderIssues(parsed.data, options.profiles, at) : [];
  if (issues.length) throw new CharacterDefinitionError(issues, options.source);
  return toCharacterDefinition(parsed.data);
}

/** A YAML or JSON file holding one definition. */
export async function loadCharacterDefinition(
  file: string,
  options: Omit<DefinitionOptions, 'source'> = {},
): Promise<CharacterDefinition> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CharacterDefinitionError([`${file}: ${unreadable(err)}`]);
  });
  const isJson = extname(file).toLowerCase() === '.json';
  let value: unknown;
  try {
    value = isJson ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new CharacterDefinitionError(
      [`not valid ${isJson ? 'JSON' : 'YAML'}: ${syntaxProblem(err as Error, text, isJson)}`],
      file,
    );
  }
  return parseCharacterDefinition(value, { ...options, source: file });
}

const handleOf = (client: Client, name: string) =>
  client.workflow.getHandle<typeof characterWorkflow>(characterWorkflowId(name));

async function ask<T>(name: string, act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CharacterNotFoundError(name);
    if (err instanceof WorkflowUpdateFailedError) {
      const refusal = err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : undefined;
      const cause = err.cause instanceof Error ? err.cause.message : err.message;
      const details = err.cause instanceof ApplicationFailure ? err.cause.details?.[0] : undefined;
      const running = (details as { running?: unknown } | undefined)?.running;
      throw new CharacterRefusedError(name, refusal, cause, Array.isArray(running) ? running.map(String) : []);
    }
    throw err;
  }
}

/**
 * Stores a checked definition (starting `character/<name>`) or, when the character exists, checks
 * the definition is the stored one: a difference is a CharacterRefusedError naming the fields.
 * Upstream nothing is paid: handles are made when a provider first needs them.
 */
export async function defineCharacter(
  client: Client,
  definition: CharacterDefinition,
  options: { taskQueue: string },
): Promise<CharacterView> {
  const start = new WithStartWorkflowOperation<typeof characterWorkflow>(CHARACTER_WORKFLOW_TYPE, {
    workflowId: characterWorkflowId(definition.name),
    taskQueue: options.taskQueue,
    args: [{ definition }],
    // Many series defining the same character at once all reach the one workflow.
    workflowIdConflictPolicy: 'USE_EXISTING',
    // A retired character's name may be defined again.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: [{ key: Characters, value: [definition.name] }],
    staticSummary: `character ${definition.name}: ${definition.description.slice(0, 80)}`,
  });
  return ask(definition.name, () =>
    client.workflow.executeUpdateWithStart(defineCharacterUpdate, {
      args: [definition],
      startWorkflowOperation: start,
    }),
  );
}

/** The character as it is now, or as it was when retired. */
export async function showCharacter(client: Client, name: string): Promise<CharacterView> {
  const handle = handleOf(client, name);
  const description = await ask(name, () => handle.describe());
  if (description.status.name === 'RUNNING') return ask(name, () => handle.query(characterQuery));
  if (description.status.name === 'COMPLETED') return handle.result();
  throw new CharacterNotFoundError(name);
}

/**
 * Characters in the library (running character workflows), by name: those of one deployment's task
 * queue, since a namespace may hold others' whose workers this client cannot reach.
 */
export async function listCharacters(client: Client, options: { taskQueue: string }): Promise<CharacterView[]> {
  const names: string[] = [];
  for await (const wf of client.workflow.list({
    query: `WorkflowType = '${CHARACTER_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND TaskQueue = ${queryLiteral(options.taskQueue)}`,
  }))
    names.push(wf.workflowId.slice('character/'.length));
  const views = await Promise.all(
    names.map((n) =>
      showCharacter(client, n).catch((err: unknown) => {
        if (err instanceof CharacterNotFoundError) return undefined; // retired meanwhile
        throw err;
      }),
    ),
  );
  return views.filter((v): v is CharacterView => !!v).sort((a, b) => a.name.localeCompare(b.name));
}

/** Makes the character's handle on `provider` now (`characters create --on`), once. */
export async function ensureCharacterHandle(client: Client, name: string, provider: string): Promise<CharacterHandle> {
  return ask(name, () => handleOf(client, name).executeUpdate(ensureHandleUpdate, { args: [{ provider }] }));
}

/**
 * Retires the character: refused (CharacterRefusedError, CharacterInUse) while a running series uses
 * it. A series that ended without saying so (terminated) is told to have left, and retiring is
 * tried once more. Updates only: they wait for a busy worker, where a query would fail.
 */
export async function retireCharacter(client: Client, name: string): Promise<CharacterView> {
  const handle = handleOf(client, name);
  const retire = () => ask(name, () => handle.executeUpdate(retireCharacterUpdate));
  try {
    return await retire();
  } catch (err) {
    if (!(err instanceof CharacterRefusedError) || err.refusal !== CharacterRefusal.inUse) throw err;
    let pruned = false;
    for (const id of err.running) {
      const status = await client.workflow
        .getHandle(id)
        .describe()
        .then(
          (d) => d.status.name,
          (failure: unknown) => {
            if (failure instanceof WorkflowNotFoundError) return 'NOT_FOUND';
            throw failure;
          },
        );
      if (status === 'RUNNING') continue;
      await handle.signal(seriesLeftSignal, { seriesId: id });
      pruned = true;
    }
    if (!pruned) throw err;
    return retire();
  }
}

/**
 * A series' cast, before the series starts: inline definitions stored in the library (one that
 * differs from the stored one is refused), library names checked to exist, and every character's
 * description filled in. Problems are a SpecError naming `characters[i]` and the fix.
 */
export async function prepareCast(
  client: Client,
  input: SeriesInput,
  options: { taskQueue: string },
): Promise<SeriesInput> {
  if (!input.cast) return input;
  const issues: string[] = [];
  const cast = await Promise.all(
    input.cast.map(async (member, i): Promise<CastMember> => {
      try {
        const view = member.definition
          ? await defineCharacter(client, member.definition, options)
          : await showCharacter(client, member.name);
        if (view.status !== 'active') throw new CharacterNotFoundError(member.name); // retired or invalid: not usable
        return { ...member, description: view.description };
      } catch (err) {
        if (err instanceof CharacterNotFoundError)
          issues.push(
            `characters[${i}]: no character "${member.name}" in the library; create it (sora-series characters create) or define it inline: {name, description, clip}`,
          );
        else if (err instanceof CharacterRefusedError) issues.push(`characters[${i}]: ${err.message}`);
        else throw err;
        return member;
      }
    }),
  );
  if (issues.length) throw new SpecError(issues);
  return { ...input, cast };
}
