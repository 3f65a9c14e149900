// The page's one WebSocket to the inspector server (`/ws`), with reconnection
// (exponential backoff with jitter, capped) and request/reply matching by `id`.
// Frames other than replies are handed to `onFrame` as they arrive; the caller
// batches them per animation frame. A request made while disconnected, or
// pending when the socket drops, fails with code DISCONNECTED.

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;
const REQUEST_TIMEOUT_MS = 15000;
/** The server's close code for a missing or wrong token. */
const UNAUTHORIZED = 4001;

/**
 * @typedef {'connecting' | 'open' | 'closed'} SocketStatus
 * @typedef {{ code: string, message: string }} WireError
 */

/** The `/ws` URL next to the page, with the page's `?token=` passed on. */
export function socketUrl(location) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(location.search).get('token');
  return `${proto}//${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/**
 * @param {{ url: string, onFrame: (frame: any) => void, onStatus: (status: SocketStatus, detail?: string) => void }} options
 */
export function connect({ url, onFrame, onStatus }) {
  /** @type {WebSocket | null} */
  let ws = null;
  let attempt = 0;
  let nextId = 1;
  let closed = false;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let retryTimer = null;
  /** @type {Map<number, { resolve: (v: unknown) => void, reject: (e: WireError) => void, timer: ReturnType<typeof setTimeout> }>} */
  const pending = new Map();

  const failPending = (message) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject({ code: 'DISCONNECTED', message });
      pending.delete(id);
    }
  };

  const open = () => {
    onStatus('connecting', attempt > 0 ? `retry ${attempt}` : undefined);
    const socket = new WebSocket(url);
    ws = socket;
    socket.onopen = () => {
      attempt = 0;
      onStatus('open');
    };
    socket.onmessage = (msg) => {
      let frame;
      try {
        frame = JSON.parse(String(msg.data));
      } catch {
        return; // not ours; the protocol is JSON text frames only
      }
      if (frame && frame.t === 'reply') {
        const p = pending.get(frame.id);
        if (!p) return;
        pending.delete(frame.id);
        clearTimeout(p.timer);
        if (frame.ok) p.resolve(frame.result);
        else p.reject(frame.error ?? { code: 'ERROR', message: 'request failed' });
        return;
      }
      onFrame(frame);
    };
    socket.onclose = (ev) => {
      if (ws !== socket) return;
      ws = null;
      failPending('the connection to the node was lost');
      if (closed) return;
      if (ev.code === UNAUTHORIZED) {
        // Retrying cannot help: the page needs the token in its URL.
        onStatus('closed', 'refused: open the page with ?token=…');
        return;
      }
      // Backoff: 250 ms, 500 ms, 1 s, … up to 5 s, with ±25% jitter so many pages do not reconnect in step.
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
      const delay = Math.round(base * (0.75 + Math.random() * 0.5));
      attempt++;
      onStatus('closed', `reconnecting in ${(delay / 1000).toFixed(1)} s`);
      retryTimer = setTimeout(open, delay);
    };
    socket.onerror = () => {
      // onclose follows and schedules the retry.
    };
  };

  open();

  return {
    /**
     * Sends a request; resolves with the reply's `result`, rejects with its `error`.
     * @param {Record<string, unknown>} request without `id`
     * @returns {Promise<any>}
     */
    request(request) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject({ code: 'DISCONNECTED', message: 'not connected to the node' });
      const id = nextId++;
      const socket = ws;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject({ code: 'TIMEOUT', message: `no reply to ${String(request.op)} within ${REQUEST_TIMEOUT_MS / 1000} s` });
        }, REQUEST_TIMEOUT_MS);
        pending.set(id, { resolve, reject, timer });
        socket.send(JSON.stringify({ ...request, id }));
      });
    },
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      ws?.close();
      failPending('closed');
    },
  };
}
