import { maxCharactersOf } from './cast-rules';
import { CHARACTER_TOKEN } from './prompt';
import type { NewScene } from './messages';
import type { ProviderProfile, SceneSpec } from './types';

/**
 * What makes a scene runnable, as pure checks, defined once: the spec and the gateway build their
 * zod schemas from them (client/spec/scene-schema.ts) and the series' message validators call them,
 * so a scene refused by `validate` is refused by the gateway and by `addScenes` with the same words.
 * Each `...Problems(value)` returns `problem; fix` lines without the field name; callers add it.
 */

export const SIZES = ['720x1280', '1280x720', '1024x1792', '1792x1024', '1920x1080', '1080x1920'] as const;
export const MAX_PROMPT_CHARS = 4000;
/** A review note: a sentence or a paragraph for whoever retakes the scene. */
export const MAX_REVIEW_NOTE_CHARS = 2000;
export const MIN_SECONDS = 1;
export const MAX_SECONDS = 20;
/** What a scene gets for a field neither it nor the spec's `defaults` sets. */
export const SCENE_DEFAULTS = { seconds: 10, size: '720x1280' } as const satisfies {
  seconds: number;
  size: (typeof SIZES)[number];
};
/** Scenes one message may add; larger batches go in several messages. */
export const MAX_SCENES_PER_MESSAGE = 500;

/** `@word` not preceded by a word character (so e-mail addresses are not mentions). */
const MENTION = /(^|[^\w@.-])@([A-Za-z0-9_][\w.-]*)/g;
/** The handle of `@character`, the one token prompts place the character with. */
const CHARACTER_HANDLE = CHARACTER_TOKEN.slice(1);
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * Every problem of a prompt as written: type, emptiness, length (after trimming), content, and its
 * mentions. `cast`: the series' library characters (`characters:`), each mentioned as `@<name>`;
 * unset: the one-character form, where `@character` is the only mention.
 */
export function promptProblems(raw: unknown, cast?: readonly string[]): string[] {
  const text = promptTextOf(raw);
  if (typeof text !== 'string') return text.problems;
  const problems = textProblems(text);
  problems.push(...(cast ? castMentionProblems(text, cast) : oneCharacterMentionProblems(text)));
  return problems;
}

/**
 * A prompt's problems where the series' cast is not known (the gateway's door): a prompt that
 * writes `@character` is in the one-character form, so its other mentions are refused; any other
 * prompt's mentions are left to the series, which knows its cast (the same words, as its refusal).
 */
export function promptProblemsAtTheDoor(raw: unknown): string[] {
  const text = promptTextOf(raw);
  if (typeof text !== 'string') return text.problems;
  return [...textProblems(text), ...(writesCharacterToken(text) ? oneCharacterMentionProblems(text) : [])];
}

function promptTextOf(raw: unknown): string | { problems: string[] } {
  if (typeof raw !== 'string')
    return { problems: ['must be a string describing what happens (write @character where the character appears)'] };
  const text = raw.trim();
  if (!text) return { problems: ['must not be empty; describe what happens in the scene'] };
  if (text.length > MAX_PROMPT_CHARS)
    return { problems: [`must be at most ${MAX_PROMPT_CHARS} characters; split the scene or shorten the prompt`] };
  return text;
}

function textProblems(text: string): string[] {
  return CONTROL_CHARS.test(text) ? ['contains control characters (e.g. NUL); remove them'] : [];
}

/** The `@handles` a prompt mentions, in order, once each (e-mail addresses are not mentions). */
export function mentionsOf(text: string): string[] {
  return [...new Set([...text.matchAll(MENTION)].map((m) => m[2].replace(/[.-]+$/, '')))];
}

/** Whether a prompt writes the one-character form's token, in any case (`@character`, `@Character`). */
export const writesCharacterToken = (text: string): boolean =>
  mentionsOf(text).some((handle) => handle.toLowerCase().startsWith(CHARACTER_HANDLE));

function oneCharacterMentionProblems(text: string): string[] {
  const problems: string[] = [];
  const others = new Set<string>();
  for (const handle of mentionsOf(text)) {
    if (handle === CHARACTER_HANDLE) continue;
    if (handle.toLowerCase().startsWith(CHARACTER_HANDLE))
      problems.push(`writes @${handle}: the character token is exactly @character (lowercase)`);
    else others.add(`@${handle}`);
  }
  if (others.size) {
    problems.push(
      `mentions ${[...others].join(', ')}: a series has one character, placed with @character; other characters are not carried from provider to provider (and the official contract takes at most 2 per video), so describe them in words or drop the @`,
    );
  }
  return problems;
}

/** A series with a cast (`characters:`): every mention names one of its characters. */
export function castMentionProblems(text: string, cast: readonly string[]): string[] {
  const problems: string[] = [];
  const listed = cast.map((n) => `@${n}`).join(', ');
  for (const handle of mentionsOf(text)) {
    if (cast.includes(handle)) continue;
    const caseless = cast.find((n) => n.toLowerCase() === handle.toLowerCase());
    if (handle === CHARACTER_HANDLE)
      problems.push(`writes @character: this series names its characters (characters:); write one of ${listed}`);
    else if (caseless) problems.push(`writes @${handle}: character names are case-sensitive; write @${caseless}`);
    else
      problems.push(
        `mentions @${handle}, which is not one of the series' characters (${listed}); add it to characters: (a library name or an inline definition), or describe it in words without the @`,
      );
  }
  return problems;
}

/** A scene's length as asked; providers round it up to what they render. */
export function secondsProblems(raw: unknown): string[] {
  if (typeof raw !== 'number' || !Number.isInteger(raw))
    return [`must be a whole number of seconds from ${MIN_SECONDS} to ${MAX_SECONDS}, got ${JSON.stringify(raw)}`];
  if (raw < MIN_SECONDS) return [`must be more than 0 seconds, got ${raw}`];
  if (raw > MAX_SECONDS)
    return [`must be at most ${MAX_SECONDS} seconds, got ${raw}; split a longer scene into several`];
  return [];
}

export function sizeProblems(raw: unknown): string[] {
  return (SIZES as readonly unknown[]).includes(raw)
    ? []
    : [`must be one of ${SIZES.join(', ')} (got ${JSON.stringify(raw)})`];
}

/** A model name, when given (unset: the provider's default). */
export function modelProblems(raw: unknown): string[] {
  return typeof raw === 'string' && raw.length > 0 ? [] : ['must be a non-empty string, or left out'];
}

/** A review note, when given. */
export function noteProblems(raw: unknown): string[] {
  return typeof raw === 'string' && raw.length <= MAX_REVIEW_NOTE_CHARS
    ? []
    : [`must be text of at most ${MAX_REVIEW_NOTE_CHARS} characters`];
}

/** More characters than any provider the scene may use holds in one take (ProviderProfile.maxCharacters). */
function castLimitProblems(prompt: string, pinned: string | undefined, ctx: SceneContext): string[] {
  const named = mentionsOf(prompt).filter((n) => ctx.cast!.includes(n));
  const usable = (ctx.profiles ?? []).filter((p) => (pinned ? p.name === pinned : ctx.providers.includes(p.name)));
  if (!usable.length) return [];
  const most = Math.max(...usable.map(maxCharactersOf));
  if (named.length <= most) return [];
  return [
    `prompt: names ${named.length} characters (${named.map((n) => `@${n}`).join(', ')}) but the most its providers hold is ${most} per take (${usable.map((p) => `${p.name}: ${maxCharactersOf(p)}`).join(', ')}); split the scene, or describe some of them in words without the @`,
  ];
}

const inField = (field: string, problems: string[]) => problems.map((p) => `${field}: ${p}`);

/** The prompt's problems as the series reports them (`prompt: ...`). */
export const scenePromptProblems = (raw: unknown, cast?: readonly string[]): string[] =>
  inField('prompt', promptProblems(raw, cast));

/** The note's problems as the series reports them (`note: ...`); a missing note is fine. */
export const reviewNoteProblems = (note: unknown): string[] =>
  note === undefined ? [] : inField('note', noteProblems(note));

export interface SceneContext {
  /** The series' providers, in order. */
  providers: string[];
  /** Unset: capabilities are not checked (the caller checks them once it knows the profiles). */
  profiles?: ProviderProfile[];
  defaults: { seconds: number; size: string; model?: string };
  /** The series' library characters (`characters:`); unset: the one-character form. */
  cast?: readonly string[];
}

/** The scene with the series' defaults filled in, or the problems (`field: problem; fix`). */
export function resolveNewScene(
  scene: NewScene,
  index: number,
  ctx: SceneContext,
): { scene: SceneSpec } | { problems: string[] } {
  const problems: string[] = [];
  const known = ['prompt', 'seconds', 'size', 'model', 'provider'];
  if (typeof scene !== 'object' || scene === null)
    return { problems: ['must be an object with a prompt, e.g. {"prompt": "@character waves"}'] };
  for (const key of Object.keys(scene))
    if (!known.includes(key)) problems.push(`${key}: unknown field; a scene has ${known.join(', ')}`);
  const prompt = typeof scene.prompt === 'string' ? scene.prompt.trim() : '';
  problems.push(...scenePromptProblems(scene.prompt, ctx.cast));
  const seconds = scene.seconds ?? ctx.defaults.seconds;
  problems.push(...inField('seconds', secondsProblems(seconds)));
  const size = scene.size ?? ctx.defaults.size;
  problems.push(...inField('size', sizeProblems(size)));
  if (scene.model !== undefined) problems.push(...inField('model', modelProblems(scene.model)));

  const allowed = (ctx.profiles ?? []).filter((p) => ctx.providers.includes(p.name));
  if (scene.provider !== undefined && !ctx.providers.includes(scene.provider)) {
    problems.push(
      `provider: "${scene.provider}" is not one of the series' providers [${ctx.providers.join(', ')}]; pick one of them or leave it out`,
    );
  } else if (ctx.profiles && !problems.some((p) => p.startsWith('size:'))) {
    const candidates = scene.provider ? allowed.filter((p) => p.name === scene.provider) : allowed;
    if (!candidates.some((p) => p.sizes.includes(size))) {
      const able = allowed.filter((p) => p.sizes.includes(size)).map((p) => p.name);
      problems.push(
        `size: ${size} is not rendered by ${scene.provider ?? `any of [${ctx.providers.join(', ')}]`}; ${able.length ? `use provider ${able.join(' or ')}` : `use one of ${[...new Set(allowed.flatMap((p) => p.sizes))].join(', ')}`}`,
      );
    }
  }
  if (ctx.cast && ctx.profiles && !problems.length) problems.push(...castLimitProblems(prompt, scene.provider, ctx));
  if (problems.length) return { problems };
  const model = scene.model ?? ctx.defaults.model;
  return {
    scene: {
      index,
      prompt,
      seconds,
      size,
      ...(model ? { model } : {}),
      ...(scene.provider ? { provider: scene.provider } : {}),
    },
  };
}

/** Resolves a batch; any problem refuses the whole batch, named by its position (`scenes[2].prompt: ...`). */
export function resolveNewScenes(
  scenes: NewScene[],
  firstIndex: number,
  ctx: SceneContext,
): { scenes: SceneSpec[] } | { problems: string[] } {
  if (!Array.isArray(scenes) || scenes.length === 0)
    return { problems: ['scenes: give a non-empty list of scenes, e.g. [{"prompt": "@character waves"}]'] };
  if (scenes.length > MAX_SCENES_PER_MESSAGE)
    return {
      problems: [`scenes: at most ${MAX_SCENES_PER_MESSAGE} per message, got ${scenes.length}; send several messages`],
    };
  const resolved: SceneSpec[] = [];
  const problems: string[] = [];
  scenes.forEach((scene, i) => {
    const one = resolveNewScene(scene, firstIndex + i, ctx);
    if ('problems' in one) problems.push(...one.problems.map((p) => `scenes[${i}].${p}`));
    else resolved.push(one.scene);
  });
  return problems.length ? { problems } : { scenes: resolved };
}
