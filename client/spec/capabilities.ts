import { unknownProviderProblems } from '../../workflows/provider-rules';
import type { ProviderProfile } from '../../workflows/types';
import { maxCharactersOf } from '../../workflows/cast-rules';
import { mentionsOf } from '../../workflows/scene-rules';
import { characterProviderIssues } from './character-schema';
import type { SeriesSpec } from './spec-schema';

/** Only relay-v1 can make a character from an earlier task. */
const EXTRACTING_CONTRACTS: ReadonlySet<string> = new Set(['relay-v1']);

// Against the providers

/**
 * What the configured providers cannot do for this spec. Scenes pinned to a provider must fit
 * it; other scenes need at least one allowed provider that renders their size and length.
 * Identical problems of many scenes are folded into one line.
 */
export function capabilityIssues(spec: SeriesSpec, profiles: ProviderProfile[]): string[] {
  const configured = new Map(profiles.map((p) => [p.name, p]));
  const issues = unknownProviderProblems(spec.providers, [...configured.keys()]);
  const allowed = spec.providers.flatMap((n) => configured.get(n) ?? []);
  if (allowed.length === 0) return issues;

  const extract = spec.character?.extract;
  const extractor = extract && configured.get(extract.provider);
  if (extractor && !EXTRACTING_CONTRACTS.has(extractor.contract)) {
    const able = allowed.filter((p) => EXTRACTING_CONTRACTS.has(p.contract)).map((p) => p.name);
    issues.push(
      `character.extract.provider: "${extractor.name}" (${extractor.contract} contract) cannot make a character from a task; ${able.length ? `extract on ${able.join(' or ')}` : 'extract on a relay-v1 provider'} or give character.clip`,
    );
  }

  const byProblem = new Map<string, string[]>();
  const add = (field: string, problem: string) => byProblem.set(problem, [...(byProblem.get(problem) ?? []), field]);
  const secondsList = (p: ProviderProfile) => `${[...p.seconds].sort((a, b) => a - b).join(', ')} s`;
  const longest = (ps: ProviderProfile[]) => Math.max(...ps.flatMap((p) => p.seconds));
  spec.scenes.forEach((scene, i) => {
    const sizeWanted = scene.size ?? spec.defaults.size;
    const sizeFrom = scene.size ? '' : ' (from defaults.size)';
    const secondsWanted = scene.seconds ?? spec.defaults.seconds;
    const secondsFrom = scene.seconds ? '' : ' (from defaults.seconds)';
    if (scene.provider) {
      const pinned = configured.get(scene.provider);
      if (!pinned) return; // reported under providers
      const others = allowed.filter((p) => p !== pinned);
      if (!pinned.sizes.includes(sizeWanted)) {
        const alternatives = others.filter((p) => p.sizes.includes(sizeWanted)).map((p) => p.name);
        add(
          `scenes[${i}].size`,
          `${sizeWanted}${sizeFrom} is not a size ${pinned.name} renders (it renders ${pinned.sizes.join(', ')}); use one of those${alternatives.length ? ` or pin the scene to ${alternatives.join(' or ')}` : ''}`,
        );
      }
      if (secondsWanted > longest([pinned])) {
        const alternatives = others.filter((p) => longest([p]) >= secondsWanted).map((p) => p.name);
        add(
          `scenes[${i}].seconds`,
          `${secondsWanted} s${secondsFrom} is longer than ${pinned.name} renders (${secondsList(pinned)}); use at most ${longest([pinned])}${alternatives.length ? ` or pin the scene to ${alternatives.join(' or ')}` : ', or split the scene'}`,
        );
      }
      return;
    }
    const fitting = allowed.filter((p) => p.sizes.includes(sizeWanted));
    if (fitting.length === 0) {
      const elsewhere = profiles
        .filter((p) => !spec.providers.includes(p.name) && p.sizes.includes(sizeWanted))
        .map((p) => p.name);
      const offered = [...new Set(allowed.flatMap((p) => p.sizes))].join(', ');
      add(
        `scenes[${i}].size`,
        `${sizeWanted}${sizeFrom} is not rendered by any provider in providers [${spec.providers.join(', ')}]; use ${offered}${elsewhere.length ? ` or add ${elsewhere.join(' or ')} to providers` : ''}`,
      );
    } else if (secondsWanted > longest(fitting)) {
      add(
        `scenes[${i}].seconds`,
        `${secondsWanted} s${secondsFrom} is longer than any provider in providers renders at ${sizeWanted} (${fitting.map((p) => `${p.name}: ${secondsList(p)}`).join('; ')}); use at most ${longest(fitting)} or split the scene`,
      );
    }
  });
  issues.push(...castIssues(spec, profiles, allowed));
  for (const [problem, fields] of byProblem) {
    const shown = fields.slice(0, 3).join(', ');
    issues.push(`${shown}${fields.length > 3 ? ` and ${fields.length - 3} more scenes` : ''}: ${problem}`);
  }
  return issues;
}

/**
 * A cast's inline definitions against the configured providers, and each scene's characters against
 * what the providers it may use can hold in one take (ProviderProfile.maxCharacters).
 */
function castIssues(spec: SeriesSpec, profiles: ProviderProfile[], allowed: ProviderProfile[]): string[] {
  if (!spec.characters) return [];
  const issues = spec.characters.flatMap((c, i) =>
    typeof c === 'string' ? [] : characterProviderIssues(c, profiles, `characters[${i}].`),
  );
  const cast = spec.characters.map((c) => (typeof c === 'string' ? c : c.name));
  spec.scenes.forEach((scene, i) => {
    const named = mentionsOf(scene.prompt).filter((n) => cast.includes(n));
    const usable = scene.provider ? allowed.filter((p) => p.name === scene.provider) : allowed;
    if (!usable.length) return;
    const most = Math.max(...usable.map(maxCharactersOf));
    if (named.length <= most) return;
    const limits = usable.map((p) => `${p.name}: ${maxCharactersOf(p)}`).join(', ');
    issues.push(
      `scenes[${i}].prompt: names ${named.length} characters (${named.map((n) => `@${n}`).join(', ')}) but ${scene.provider ? `${scene.provider} holds` : 'the most any of its providers holds is'} ${most} per take (${limits}); split the scene, or describe ${named.length - most === 1 ? 'one of them' : 'some of them'} in words without the @`,
    );
  });
  return issues;
}
