import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import YAML from 'yaml';
import { defaultProviderConfig } from '../activities/providers/config';
import { profilesOf } from '../activities/providers/registry';
import { parseSpec, SpecError } from '../client/spec/parse-spec';
import { DEFAULT_SIMULATOR_URL } from '../client/spec/provider-profiles';
import { PUBLIC_ONLY } from '../common/url-policy';
import { COMMANDS } from '../client/commands/table';
import { ROOT, runCli } from './helpers/processes';

/**
 * The README is the front door and docs/ holds one page per reference; these checks keep them
 * walkable and true: every relative link leads to a file (and heading) that exists, the spec
 * examples parse, the refusal shown is the one the CLI prints, and every command is documented.
 */

const DOC_FILES = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
/** Prose only: fenced blocks and inline code hold paths and brackets that are not links. */
const prose = (text: string) => withoutBlocks(text).replace(/`[^`\n]*`/g, '');
/** Fenced blocks in order, with their language (`` for none). */
function blocks(text: string): Array<{ lang: string; body: string }> {
  const found: Array<{ lang: string; body: string }> = [];
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of text.split('\n')) {
    const fence = /^```(\S*)\s*$/.exec(line);
    if (fence && !open) open = { lang: fence[1], lines: [] };
    else if (fence && open) {
      found.push({ lang: open.lang, body: open.lines.join('\n') });
      open = undefined;
    } else open?.lines.push(line);
  }
  return found;
}
/** The text with every fenced block removed. */
function withoutBlocks(text: string): string {
  let inside = false;
  return text
    .split('\n')
    .filter((line) => {
      if (/^```/.test(line)) inside = !inside;
      else return !inside;
      return false;
    })
    .join('\n');
}
const fenced = (text: string, lang?: string) =>
  blocks(text)
    .filter((b) => lang === undefined || b.lang === lang)
    .map((b) => b.body);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as dashes. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of withoutBlocks(markdown).matchAll(/^#{1,6}\s+(.+)$/gm)) {
    anchors.add(
      match[1]
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}

function linksOf(file: string): Array<{ target: string; anchor?: string }> {
  return [...prose(read(file)).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((href) => !/^[a-z][a-z0-9+.-]*:/i.test(href))
    .map((href) => {
      const [path, anchor] = href.split('#');
      const target = path ? relative(ROOT, resolve(join(ROOT, dirname(file)), path)) : file;
      return { target, anchor };
    });
}

describe('the README and docs/', () => {
  test('the README stays a front door (well under 150 lines) and links every page in docs/', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThan(150);
    const linked = new Set(linksOf('README.md').map((l) => l.target));
    for (const page of DOC_FILES.filter((f) => f.startsWith('docs/')))
      expect([page, linked.has(page)]).toEqual([page, true]);
  });

  test.each(DOC_FILES)('every relative link in %s leads to an existing file and heading', (file) => {
    const broken: string[] = [];
    for (const { target, anchor } of linksOf(file)) {
      const path = join(ROOT, target);
      if (!existsSync(path)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (anchor && !(statSync(path).isFile() && anchorsOf(readFileSync(path, 'utf8')).has(anchor)))
        broken.push(`${target}#${anchor}: no such heading`);
    }
    expect(broken).toEqual([]);
  });

  const profiles = profilesOf(defaultProviderConfig(DEFAULT_SIMULATOR_URL));
  test.each([
    ['docs/spec.md', profiles],
    ['README.md', profiles],
  ])('the spec example in %s is a valid spec', (file, against) => {
    const [example] = fenced(read(file), 'yaml');
    expect(example).toBeDefined();
    expect(() => parseSpec(YAML.parse(example), file, { urlPolicy: PUBLIC_ONLY, profiles: against })).not.toThrow();
  });

  test('docs/spec.md shows the refusal the CLI prints for a bad spec', () => {
    const bad = {
      name: 'harbor-tales',
      character: { name: 'Mira', description: 'a courier', clip: 'mira.mp4' },
      scenes: [{ prompt: '' }],
    };
    let error: unknown;
    try {
      parseSpec(bad, 'bad.yaml', { urlPolicy: PUBLIC_ONLY, profiles });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SpecError);
    // cli.ts prints `sora-series: <name>: <message>` for every error it exits 2 with.
    const printed = `sora-series: SpecError: ${(error as SpecError).message}`;
    expect(fenced(read('docs/spec.md'), '').map((block) => block.trim())).toContain(printed);
  });

  test('every command the CLI lists is in docs/cli.md, and the docs name no command the CLI lacks', async () => {
    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    const commands = new Set(Object.keys(COMMANDS));
    expect(commands.size).toBeGreaterThan(20);
    // The help lists every command of the table it is made from.
    expect([...commands].filter((c) => !new RegExp(`^  ${c} `, 'm').test(help.stdout))).toEqual([]);

    const cli = read('docs/cli.md');
    const undocumented = [...commands].filter((c) => !new RegExp('`(sora-series )?' + c + '[ `]').test(cli));
    expect(undocumented).toEqual([]);

    // Commands as written in code (inline or fenced): prose may say "sora-series runs ...".
    const code = (text: string) => [
      ...fenced(text),
      ...[...withoutBlocks(text).matchAll(/`([^`\n]+)`/g)].map((m) => m[1]),
    ];
    const unknown = DOC_FILES.flatMap((file) =>
      code(read(file))
        .flatMap((snippet) => [...snippet.matchAll(/(?:^|\s)sora-series ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?/g)])
        // a command of two words (`providers check`) is named by both; a group (`characters`) by its first
        .map((m) => (m[2] && commands.has(`${m[1]} ${m[2]}`) ? `${m[1]} ${m[2]}` : m[1]))
        .filter((c) => !commands.has(c) && c !== 'help' && ![...commands].some((k) => k.startsWith(`${c} `)))
        .map((c) => `${file}: sora-series ${c}`),
    );
    expect(unknown).toEqual([]);
  });
});
