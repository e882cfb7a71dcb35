import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findProjectRoot } from '../../common/project-root';
import type { Answer } from './route';

/**
 * The review page's files: plain HTML, one script and one style sheet under
 * client/gateway/review-page/, served as they are (no build step). The HTML is the same for every
 * series (the script reads the id from the address), so nothing a request says is written into it.
 */

export const PAGE_FILES = ['review.js', 'review.css'] as const;
export type PageFile = (typeof PAGE_FILES)[number];

const TYPES: Record<string, string> = {
  'review.html': 'text/html; charset=utf-8',
  'review.js': 'text/javascript; charset=utf-8',
  'review.css': 'text/css; charset=utf-8',
};

/** Only the page's own files run or load: no inline script, nothing from elsewhere, no framing. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "media-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const cache = new Map<string, Buffer>();

function read(file: string): Buffer {
  let data = cache.get(file);
  if (!data) {
    data = readFileSync(join(findProjectRoot(__dirname), 'client', 'gateway', 'review-page', file));
    cache.set(file, data);
  }
  return data;
}

export function pageFile(file: 'review.html' | PageFile): Answer {
  const data = read(file);
  return {
    status: 200,
    headers: {
      'cache-control': 'no-cache',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    },
    content: { type: TYPES[file], length: data.length, data },
  };
}
