/** How a Kling take names its characters: held ones as elements, the rest described. */
import { renderMentions } from './mentions';
import type { SubmitRequest } from './provider';

/** Omni without a reference video: elements and reference images together at most 7 (§3a). */
export const KLING_MAX_ELEMENTS = 7;

/** How a held character is written in the prompt; its content item carries the same id (§3a). */
export const klingMention = (elementId: string): string => `@element_${elementId}`;

/** Element ids of the take's held characters (older scenes: their one `characterId`), at most 7. */
export function heldElements(request: SubmitRequest): string[] {
  if (!request.characters) return request.characterId ? [request.characterId] : [];
  return request.characters.flatMap((c) => (c.ref ? [c.ref.id] : [])).slice(0, KLING_MAX_ELEMENTS);
}

/** Held characters as `@element_<id>`, the rest described; older scenes' prompts arrive rendered. */
export function renderedPrompt(request: SubmitRequest): string {
  if (!request.characters) return request.prompt;
  const held = new Set(heldElements(request));
  return renderMentions(request.prompt, request.characters, (c) =>
    c.ref && held.has(c.ref.id) ? klingMention(c.ref.id) : undefined,
  );
}
