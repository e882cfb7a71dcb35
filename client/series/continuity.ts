import type { Continuity } from '../../workflows/types';

/** How a scene held its characters, as the CLI prints it: `kept`, or per library character `mira kept, tom degraded`. */
export function continuityLabel(scene: {
  continuity?: string;
  continuityByCharacter?: Record<string, Continuity>;
}): string | undefined {
  const by = scene.continuityByCharacter;
  if (by && Object.keys(by).length)
    return Object.entries(by)
      .map(([name, level]) => `${name} ${level}`)
      .join(', ');
  return scene.continuity;
}
