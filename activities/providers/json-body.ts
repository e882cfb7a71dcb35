/** A response body as JSON, or undefined when it is empty or not JSON (error bodies often are not). */
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
