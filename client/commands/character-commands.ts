import { urlPolicyFromEnv } from '../../common/url-policy';
import type { CharacterHandle, CharacterView } from '../../workflows/messages';
import { connectClient } from '../series/connect';
import {
  CharacterRefusedError,
  defineCharacter,
  ensureCharacterHandle,
  listCharacters,
  loadCharacterDefinition,
  parseCharacterDefinition,
  retireCharacter,
  showCharacter,
} from '../series/characters';
import { ArgumentError } from '../series/series-id';
import { clientProviderProfiles } from '../spec/provider-profiles';
import { columns, JSON_OPTION, type CommandInput, type CommandSpec } from './command';

/** Runs against Temporal; a refusal of the character's workflow prints its reason and exits 1. */
async function withClient(run: (c: Awaited<ReturnType<typeof connectClient>>) => Promise<number>): Promise<number> {
  const connected = await connectClient();
  try {
    return await run(connected);
  } catch (err) {
    if (err instanceof CharacterRefusedError) {
      process.stderr.write(`sora-series: ${err.name}${err.refusal ? ` (${err.refusal})` : ''}: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await connected.close();
  }
}

/** `relay=char_a,official=char_b` */
function adoptOption(raw: string): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const [provider, id, extra] = pair.split('=').map((t) => t.trim());
    if (!provider || !id || extra !== undefined)
      throw new ArgumentError(`--adopt: give provider=id pairs separated by commas (relay=char_abc), got "${raw}"`);
    ids[provider] = id;
  }
  return ids;
}

/** The definition from a file, or from the flags (the same checks either way). */
async function definitionOf({ args, values }: CommandInput) {
  const { profiles } = clientProviderProfiles();
  const urlPolicy = urlPolicyFromEnv(process.env);
  const flags = ['name', 'description', 'clip', 'image', 'adopt'].filter((f) => values[f] !== undefined);
  if (args[0]) {
    if (flags.length)
      throw new ArgumentError(`characters create: give a file or --${flags[0]} and the other flags, not both`);
    return loadCharacterDefinition(args[0], { profiles, urlPolicy });
  }
  if (!flags.length)
    throw new ArgumentError(
      'characters create: give a definition file, or --name, --description and a source (--clip, --image or --adopt)',
    );
  const value = {
    name: values.name,
    description: values.description,
    ...(values.clip !== undefined ? { clip: values.clip } : {}),
    ...(values.image !== undefined ? { images: [values.image] } : {}),
    ...(values.adopt !== undefined ? { adopt: adoptOption(String(values.adopt)) } : {}),
  };
  return parseCharacterDefinition(value, { profiles, urlPolicy, source: 'from the flags' });
}

const handleLine = (h: CharacterHandle | CharacterView['handles'][number]) =>
  `${h.state}${h.ref ? ` ${h.ref.id}` : ''}${h.reason ? ` (${h.reason})` : ''}, ${h.origin}${h.recreations ? `, made again ${h.recreations}x` : ''}, $${h.costUsd.toFixed(2)}`;

export function formatCharacter(view: CharacterView): string {
  const lines = [`character ${view.name}: ${view.status}`, `  description: ${view.description}`];
  if (view.source.clip) lines.push(`  clip: ${view.source.clip.url} (sha256 ${view.source.clip.sha256})`);
  for (const image of view.source.images) lines.push(`  image: ${image.url} (sha256 ${image.sha256})`);
  if (view.stills.length) lines.push(`  stills: ${view.stills.length} (${view.stills.map((s) => s.path).join(', ')})`);
  if (view.invalid) lines.push(`  invalid: ${view.invalid}`);
  lines.push(
    view.handles.length
      ? `  handles:\n${columns(
          view.handles.map((h) => [h.provider, handleLine(h)]),
          undefined,
          '    ',
        )}`
      : '  handles: none yet (made when a series first needs one, or now with characters create --on)',
  );
  lines.push(
    view.series.length
      ? `  series: ${view.series.map((s) => `${s.id}${s.running ? ' (running)' : ''}`).join(', ')}`
      : '  series: none',
  );
  return lines.join('\n');
}

/** The library: one character workflow each (character/<name>). */
export const CHARACTER_COMMANDS: Record<string, CommandSpec> = {
  'characters create': {
    summary: 'add a character to the library (from a file or flags); nothing is paid until a provider needs it',
    details:
      'Defining an existing name again is accepted when the definition is the same, and refused (exit 1) naming the fields that differ. With --on, the handle on those providers is made now and printed.',
    args: [],
    optionalArgs: ['character file'],
    options: {
      name: { type: 'string', value: 'NAME', help: 'the library name (@NAME in prompts)' },
      description: { type: 'string', value: 'TEXT', help: 'how the character looks' },
      clip: { type: 'string', value: 'URL', help: 'a 2-4 s source clip' },
      image: { type: 'string', value: 'URL', help: 'a reference image (a file may list several)' },
      adopt: { type: 'string', value: 'P=ID,...', help: 'existing ids by provider (relay=char_abc)' },
      on: { type: 'string', value: 'PROVIDER,...', help: 'make the handle on these providers now' },
      json: JSON_OPTION,
    },
    async run(input) {
      const definition = await definitionOf(input);
      const on = input.values.on
        ? String(input.values.on)
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean)
        : [];
      return withClient(async ({ client, settings }) => {
        let view = await defineCharacter(client, definition, { taskQueue: settings.taskQueue });
        for (const provider of on) await ensureCharacterHandle(client, definition.name, provider);
        if (on.length) view = await showCharacter(client, definition.name);
        input.print(input.values.json ? JSON.stringify(view) : formatCharacter(view));
        return 0;
      });
    },
  },
  'characters list': {
    summary: 'the characters in the library, their handles and the series that use them',
    args: [],
    options: { json: JSON_OPTION },
    async run({ values, print }) {
      return withClient(async ({ client, settings }) => {
        const views = await listCharacters(client, { taskQueue: settings.taskQueue });
        if (values.json) print(JSON.stringify(views));
        else if (!views.length) print('no characters (sora-series characters create <file> adds one)');
        else
          print(
            columns(
              views.map((v) => [
                v.name,
                `${v.status}; handles: ${v.handles.map((h) => `${h.provider} ${h.state}`).join(', ') || 'none'}; series: ${v.series.filter((s) => s.running).length} running, ${v.series.length} in all`,
              ]),
            ),
          );
        return 0;
      });
    },
  },
  'characters show': {
    summary: "a character: description, source, stills, each provider's handle, the series that use it",
    args: ['name'],
    options: { json: JSON_OPTION },
    async run({ args, values, print }) {
      return withClient(async ({ client }) => {
        const view = await showCharacter(client, args[0]);
        print(values.json ? JSON.stringify(view) : formatCharacter(view));
        return 0;
      });
    },
  },
  'characters retire': {
    summary: 'retire a character (refused, exit 1, while a running series uses it)',
    args: ['name'],
    options: { json: JSON_OPTION },
    async run({ args, values, print }) {
      return withClient(async ({ client }) => {
        const view = await retireCharacter(client, args[0]);
        print(values.json ? JSON.stringify(view) : `retired character ${view.name}`);
        return 0;
      });
    },
  },
};
