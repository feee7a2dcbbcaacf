// A lecture's live events over SSE. The browser's EventSource reconnects by itself after a
// dropped connection and sends Last-Event-ID; when it gives up (the server answered with an
// error status while restarting), a new EventSource resumes after the last id seen. No polling.

import { eventsUrl } from "./api.js";

export const EVENT_TYPES = [
  "asset.regeneration-requested",
  "asset.attempt-started",
  "asset.retrying",
  "asset.generated",
  "asset.failed",
  "asset.needs-prompt-update",
];

const MAX_BACKOFF_MS = 10_000;

export class LiveStream {
  constructor(lectureId, { waitFor, onEvent, onState }) {
    this.lectureId = lectureId;
    this.waitFor = waitFor;
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastEventId = null;
    this.source = null;
    this.backoffMs = 500;
    this.timer = null;
    this.closed = false;
  }

  open() {
    this.onState("connecting");
    const url = eventsUrl(this.lectureId, { lastEventId: this.lastEventId, waitFor: this.waitFor });
    const source = new EventSource(url);
    this.source = source;
    source.onopen = () => {
      this.backoffMs = 500;
      this.onState("live");
    };
    source.onerror = () => {
      if (this.closed) return;
      this.onState("reconnecting");
      if (source.readyState === EventSource.CLOSED) this.reopenLater();
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => {
        this.lastEventId = message.lastEventId;
        this.onEvent(type, JSON.parse(message.data), Number(message.lastEventId));
      });
    }
  }

  reopenLater() {
    this.source.close();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.source) this.source.close();
  }
}
