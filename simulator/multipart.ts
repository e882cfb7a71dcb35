/**
 * multipart/form-data parsing, and the bracket convention clients use to nest values in it:
 * `characters[0][id]` (curl, most docs), `characters[][id]` (the openai SDK's form encoder),
 * `input_reference[image_url]`. Written here because node:http has no body parser.
 */
import { InvalidRequestError } from './errors';

export interface UploadedFile {
  kind: 'file';
  filename: string;
  contentType: string;
  data: Buffer;
}

export type FormValue = string | number | boolean | null | UploadedFile | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

export interface FormEntry {
  name: string;
  value: string | UploadedFile;
}

export function isUploadedFile(value: unknown): value is UploadedFile {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as UploadedFile).kind === 'file' &&
    Buffer.isBuffer((value as UploadedFile).data)
  );
}

function boundaryOf(contentType: string): string {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = match ? (match[1] ?? match[2]) : undefined;
  if (!boundary)
    throw new InvalidRequestError('multipart/form-data body without a boundary.', null, 'invalid_multipart');
  return boundary;
}

function headerParam(header: string, name: string): string | undefined {
  const match =
    new RegExp(`;\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header) ??
    new RegExp(`;\\s*${name}=([^;\\s]+)`, 'i').exec(header);
  return match ? match[1].replace(/\\(.)/g, '$1') : undefined;
}

/** Split a multipart body into its parts; a part with a filename is a file, anything else text. */
export function parseMultipart(body: Buffer, contentType: string): FormEntry[] {
  const boundary = boundaryOf(contentType);
  const first = Buffer.from(`--${boundary}`);
  // Later delimiters are preceded by CRLF; searching for that keeps binary content that merely
  // contains the boundary text from being cut (RFC 2046 §5.1.1).
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const entries: FormEntry[] = [];
  let cursor = body.indexOf(first);
  if (cursor < 0) throw new InvalidRequestError('multipart body has no parts.', null, 'invalid_multipart');
  cursor += first.length;
  for (;;) {
    if (body.subarray(cursor, cursor + 2).toString() === '--') break; // closing delimiter
    const headerStart = cursor + 2; // skip CRLF after the delimiter
    const headerEnd = body.indexOf('\r\n\r\n', headerStart);
    if (headerEnd < 0) throw new InvalidRequestError('Truncated multipart body.', null, 'invalid_multipart');
    const next = body.indexOf(delimiter, headerEnd + 2);
    if (next < 0) throw new InvalidRequestError('Truncated multipart body.', null, 'invalid_multipart');
    const headers = body.subarray(headerStart, headerEnd).toString('utf8').split('\r\n');
    const content = body.subarray(Math.min(headerEnd + 4, next), next);
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? '';
    const name = headerParam(disposition, 'name');
    if (name === undefined) throw new InvalidRequestError('multipart part without a name.', null, 'invalid_multipart');
    const filename = headerParam(disposition, 'filename');
    if (filename !== undefined) {
      const typeHeader = headers.find((h) => /^content-type:/i.test(h));
      const partType = typeHeader ? typeHeader.slice(typeHeader.indexOf(':') + 1).trim() : 'application/octet-stream';
      entries.push({ name, value: { kind: 'file', filename, contentType: partType, data: Buffer.from(content) } });
    } else {
      entries.push({ name, value: content.toString('utf8') });
    }
    cursor = next + delimiter.length;
  }
  return entries;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_INDEX = 1000;

function keySegments(name: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(name);
  if (!match) return [name];
  const rest = [...match[2].matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]);
  return [match[1], ...rest];
}

function emptyContainerFor(segment: string | undefined): FormValue[] | FormObject {
  return segment === '' || (segment !== undefined && /^\d+$/.test(segment)) ? [] : (Object.create(null) as FormObject);
}

/** Place `value` at `segments` inside `container`, creating arrays/objects on the way. */
function assign(
  container: FormObject | FormValue[],
  segments: string[],
  value: string | UploadedFile,
  fieldName: string,
): void {
  const [head, ...rest] = segments;
  if (FORBIDDEN_KEYS.has(head))
    throw new InvalidRequestError(`Invalid field name ${fieldName}.`, fieldName, 'invalid_multipart');
  const slots = container as Record<string | number, FormValue>;
  const key = Array.isArray(container) ? arrayIndex(container, head, rest, fieldName) : head;
  if (rest.length === 0) {
    slots[key] = value;
    return;
  }
  const child = slots[key] ?? emptyContainerFor(rest[0]);
  if (typeof child !== 'object' || child === null || isUploadedFile(child))
    throw new InvalidRequestError(`Conflicting field ${fieldName}.`, fieldName, 'invalid_multipart');
  slots[key] = child;
  assign(child, rest, value, fieldName);
}

/** Which element of an array `head` names: a number, or `[]` for the next element. */
function arrayIndex(container: FormValue[], head: string, rest: string[], fieldName: string): number {
  if (head === '') {
    // `a[][id]`: a key already set on the last element means the client started a new element.
    const last = container[container.length - 1];
    const reuse =
      rest.length > 0 &&
      last !== undefined &&
      typeof last === 'object' &&
      !Array.isArray(last) &&
      !isUploadedFile(last) &&
      last !== null &&
      !(rest[0] in last);
    return reuse ? container.length - 1 : container.length;
  }
  if (/^\d+$/.test(head) && Number(head) < MAX_INDEX) return Number(head);
  throw new InvalidRequestError(`Invalid field name ${fieldName}.`, fieldName, 'invalid_multipart');
}

/** Turn flat form entries into a nested field tree, e.g. `characters[0][id]=x` → `{characters:[{id:'x'}]}`. */
export function expandBracketFields(entries: readonly FormEntry[]): FormObject {
  const root = Object.create(null) as FormObject;
  for (const entry of entries) assign(root, keySegments(entry.name), entry.value, entry.name);
  // Sparse indices (`a[3]` alone) would leave holes; compact them so validation sees real values.
  const compact = (value: FormValue): FormValue => {
    if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(compact);
    if (value && typeof value === 'object' && !isUploadedFile(value)) {
      for (const key of Object.keys(value)) value[key] = compact(value[key]);
    }
    return value;
  };
  compact(root);
  return root;
}
