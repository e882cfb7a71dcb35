// The review page's script: reads the series through the gateway's JSON routes and acts through
// them (POST .../review and .../retry), so the series checks every action and its refusal is
// shown as the API words it. No framework, no build step; data goes into the page as text only.
'use strict';

(() => {
  const POLL_MS = 3000;
  /** Statuses of a series that still changes; any other one is final. */
  const OPEN = new Set(['running', 'paused', 'awaiting_approval', 'continued']);

  // The page is <gateway>/review/<id>; the API is relative to it, so a proxy may mount it under a path.
  const segment = location.pathname.split('/').pop();
  const api = (path) => new URL(`../series/${segment}${path}`, location.href).href;

  const $ = (id) => document.getElementById(id);
  const usd = (n) => `$${(n ?? 0).toFixed(2)}`;

  /** An element; `aria-*` and `role` are attributes, the rest properties (text goes in as text, never as HTML). */
  function el(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === 'role' || key.startsWith('aria-')) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) node.append(child);
    return node;
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** The gateway's `{error: {message}}` as an ApiError, else the JSON body. */
  async function call(path, init = {}) {
    const response = await fetch(api(path), { credentials: 'same-origin', ...init });
    const body = await response.json().catch(() => undefined);
    if (!response.ok) throw new ApiError(response.status, body?.error?.message ?? `HTTP ${response.status}`);
    return body;
  }

  const post = (path, body) =>
    call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** The node of the first entry numbered above `n`, to insert before (null: at the end). */
  function nextAfter(entries, n) {
    const after = [...entries.keys()].filter((k) => k > n).sort((a, b) => a - b)[0];
    return after === undefined ? null : entries.get(after).node;
  }

  let ended = false;
  const scenes = new Map();

  /** Sends one action; its answer (the series' refusal, word for word) appears next to its buttons. */
  async function act(answer, buttons, path, body, done) {
    buttons.forEach((b) => (b.disabled = true));
    answer.className = 'answer';
    answer.textContent = 'sending…';
    try {
      await post(path, body);
      answer.classList.add('accepted');
      answer.textContent = done;
    } catch (err) {
      answer.classList.add('refused');
      answer.textContent = err.message;
    } finally {
      buttons.forEach((b) => (b.disabled = ended));
    }
    refresh();
  }

  const optional = (input) => input.value.trim() || undefined;

  function reviewControls(index, take) {
    const label = `take ${take} of scene ${index}`;
    const note = el('input', { type: 'text', placeholder: 'note (optional)', 'aria-label': `Note for ${label}` });
    const answer = el('p', { className: 'answer', role: 'status' });
    const approve = el('button', { type: 'button', textContent: 'Approve', 'aria-label': `Approve ${label}` });
    const reject = el('button', { type: 'button', textContent: 'Reject', 'aria-label': `Reject ${label}` });
    const send = (verdict, done) => () =>
      act(answer, [approve, reject], '/review', { index, take, verdict, note: optional(note) }, done);
    approve.addEventListener('click', send('approve', `approved ${label}`));
    reject.addEventListener('click', send('reject', `rejected ${label}`));
    return el('div', { className: 'actions' }, [note, approve, reject, answer]);
  }

  function retryControls(index) {
    const prompt = el('input', {
      type: 'text',
      placeholder: 'new prompt (optional)',
      'aria-label': `New prompt for scene ${index}`,
    });
    const answer = el('p', { className: 'answer', role: 'status' });
    const retry = el('button', { type: 'button', textContent: 'Retry', 'aria-label': `Retry scene ${index}` });
    retry.addEventListener('click', () =>
      act(answer, [retry], '/retry', { index, prompt: optional(prompt) }, `scene ${index}: a new take is queued`),
    );
    return el('div', { className: 'actions retry' }, [prompt, retry, answer]);
  }

  function takeCaption(t) {
    if (t.outcome === 'in_flight')
      return `take ${t.take}: ${t.phase ?? 'starting'}${t.provider ? ` on ${t.provider}` : ''}${t.progress !== undefined ? ` ${t.progress}%` : ''}`;
    const verdict = { approve: 'approved', reject: 'rejected' }[t.review?.verdict];
    const review = verdict ? `${verdict}${t.review.note ? `: ${t.review.note}` : ''}` : 'not reviewed';
    return [
      `take ${t.take}: ${t.outcome} on ${t.provider}`,
      usd(t.costUsd),
      t.outcome === 'completed' ? review : t.reason,
    ]
      .filter(Boolean)
      .join(' · ');
  }

  /** A take's card, kept across refreshes so a playing video is never replaced. */
  function renderTake(scene, index, t) {
    let card = scene.takes.get(t.take);
    if (!card) {
      const node = el('figure', { className: 'take' });
      node.dataset.take = String(t.take);
      card = { node, caption: el('figcaption'), video: undefined, controls: undefined };
      node.append(card.caption);
      // In take order: a scene's earlier takes are reported once it finishes, after the one in flight.
      scene.list.insertBefore(node, nextAfter(scene.takes, t.take));
      scene.takes.set(t.take, card);
    }
    if (t.sha256 && !card.video) {
      card.video = el('video', {
        controls: true,
        preload: 'metadata',
        src: api(`/scenes/${index}/takes/${t.take}/video`),
      });
      card.node.prepend(card.video);
    }
    if (t.outcome !== 'in_flight' && !card.controls) {
      card.controls = reviewControls(index, t.take);
      card.node.append(card.controls);
    }
    card.caption.textContent = takeCaption(t);
  }

  function renderScene(index, reported, taken) {
    let scene = scenes.get(index);
    if (!scene) {
      const node = el('section', { className: 'scene' });
      node.dataset.scene = String(index);
      scene = {
        node,
        title: el('h2'),
        facts: el('p', { className: 'facts' }),
        list: el('div', { className: 'takes' }),
      };
      scene.takes = new Map();
      node.append(scene.title, scene.facts, scene.list);
      $('scenes').insertBefore(node, nextAfter(scenes, index));
      scenes.set(index, scene);
    }
    const sceneId = taken?.sceneId ?? reported?.id;
    scene.title.textContent = `Scene ${index}${sceneId !== undefined ? ` "${sceneId}"` : ''}`;
    const status = taken?.status ?? reported?.status ?? 'waiting to start';
    scene.facts.textContent = [
      status,
      reported?.provider && `on ${reported.provider}`,
      reported?.continuity && `continuity ${reported.continuity}`,
      reported && usd(reported.costUsd),
      reported?.reason,
    ]
      .filter(Boolean)
      .join(' · ');
    for (const t of taken?.takes ?? []) renderTake(scene, index, t);
    if (taken && !scene.retry) {
      scene.retry = retryControls(index);
      scene.node.append(scene.retry);
    }
  }

  function render(report, takes) {
    $('series').textContent = report.id;
    document.title = `${report.id} · review`;
    const total = report.scenesTotal ?? report.scenes.length;
    $('summary').textContent = [
      report.status,
      `${report.scenesDone ?? report.scenes.length}/${total} scenes done`,
      usd(report.costUsd),
      report.error,
      ended ? 'final' : `refreshing every ${POLL_MS / 1000} s`,
    ]
      .filter(Boolean)
      .join(' · ');
    const reported = new Map(report.scenes.map((s) => [s.index, s]));
    const taken = new Map((takes?.scenes ?? []).map((s) => [s.index, s]));
    const last = Math.max(total, ...reported.keys(), ...taken.keys());
    for (let index = 1; index <= last; index++) renderScene(index, reported.get(index), taken.get(index));
  }

  function problem(text) {
    $('problem').hidden = !text;
    $('problem').textContent = text ?? '';
  }

  let timer;
  let serial = 0;
  async function refresh() {
    clearTimeout(timer);
    const mine = ++serial;
    try {
      const [report, takes] = await Promise.all([
        call(''),
        call('/takes').catch((err) => ({ failed: err })), // a series that ended without a result has no takes
      ]);
      if (mine !== serial) return; // a newer refresh started meanwhile
      ended = !OPEN.has(report.status);
      render(report, takes.failed ? undefined : takes);
      problem(takes.failed?.message);
    } catch (err) {
      if (mine !== serial) return;
      problem(err.message);
      // Without the token, or for a series that does not exist, asking again cannot help.
      if (err.status === 401 || err.status === 404) ended = true;
    }
    document.body.dataset.state = ended ? 'ended' : 'live';
    if (ended) {
      for (const button of document.querySelectorAll('button')) {
        button.disabled = true;
        button.title = 'the series has ended: its manifest is final';
      }
    } else timer = setTimeout(refresh, POLL_MS);
  }

  refresh();
})();
