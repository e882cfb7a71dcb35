/**
 * The baseline: a plain sequential script written the way the founding document's client works
 * against a relay-v1 upstream. Create the character, then for each scene submit, poll the task
 * every few seconds until it is done, and download the video. No durability, no parallelism.
 */
import { sleep } from './processes';

export interface PlainScriptRun {
  seconds: number;
  /** The character creation call alone (part of the ideal time). */
  characterSeconds: number;
  videos: number;
}

async function call<T>(url: string, key: string, init: { method: 'GET' | 'POST'; body?: unknown }): Promise<T> {
  const response = await fetch(url, {
    method: init.method,
    headers: { Authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  if (!response.ok) throw new Error(`${init.method} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

export async function runPlainScript(options: {
  relayBaseUrl: string;
  key: string;
  clipUrl: string;
  scenes: number;
  pollMs: number;
}): Promise<PlainScriptRun> {
  const started = performance.now();
  const { relayBaseUrl: base, key } = options;
  const { character_id } = await call<{ character_id: string }>(`${base}/sora/characters`, key, {
    method: 'POST',
    body: { video_url: options.clipUrl, name: 'Mira', description: 'a red-haired courier in a yellow raincoat' },
  });
  const characterSeconds = (performance.now() - started) / 1000;
  let videos = 0;
  for (let i = 1; i <= options.scenes; i++) {
    const { task_id } = await call<{ task_id: string }>(`${base}/sora/generate`, key, {
      method: 'POST',
      body: { prompt: `@${character_id} walks the harbor wall, shot ${i}`, duration: 10 },
    });
    for (;;) {
      await sleep(options.pollMs);
      const task = await call<{ status: string; video_url?: string; error?: string }>(
        `${base}/sora/tasks/${task_id}`,
        key,
        { method: 'GET' },
      );
      if (task.status === 'failed') throw new Error(`task ${task_id} failed: ${task.error}`);
      if (task.status !== 'completed' || !task.video_url) continue;
      const video = await fetch(task.video_url);
      if (!video.ok) throw new Error(`download ${task.video_url}: ${video.status}`);
      await video.arrayBuffer();
      videos++;
      break;
    }
  }
  return { seconds: (performance.now() - started) / 1000, characterSeconds, videos };
}
