// A lecture's timeline: one row per track, clips by start and duration, live over SSE, and
// the editor that regenerates a failed or rejected clip.

import { api } from "./api.js";
import {
  applyEvent, assetState, canRegenerate, initialState, KIND_LABELS, reached, TRACK_LABELS,
} from "./clips.js";
import { announce, formatTime, h, uid } from "./dom.js";
import { capitalised, label, showProblem } from "./lectures.js";
import { LiveStream } from "./live.js";

export async function renderLecture(main, lectureId, { waitFor, setConnection }) {
  const query = waitFor ? `?wait_for=${encodeURIComponent(waitFor)}` : "";
  const id = encodeURIComponent(lectureId);
  const [lecture, timeline, models] = await Promise.all([
    api(`/v1/lectures/${id}${query}`),
    api(`/v1/lectures/${id}/timeline${query}`),
    api("/v1/models"),
  ]);
  const page = new LecturePage(main, lecture, timeline, models.media);
  page.render();
  const stream = new LiveStream(lectureId, {
    waitFor,
    onEvent: (type, data, seq) => page.receive(type, data, seq),
    onState: setConnection,
  });
  stream.open();
  return () => stream.close();
}

class LecturePage {
  constructor(main, lecture, timeline, media) {
    this.main = main;
    this.lecture = lecture;
    this.timeline = timeline;
    this.media = media;
    // What is shown: the read of the views at first. The stream replays every event from the
    // lecture's start into `replayed`; once an asset's replay reaches what was read, what is
    // shown follows the replay. The log and the announcements come from the replay alone, so
    // a reload shows the same history and never a status going backwards.
    this.assets = new Map(lecture.assets.map((a) => [a.asset_id, assetState(a)]));
    this.replayed = new Map(lecture.assets.map((a) => [a.asset_id, initialState(a)]));
    this.awaiting = new Map([...this.assets].map(([id, a]) => [id, {
      status: a.status, promptVersion: a.promptVersion,
    }]));
    this.segmentTitles = new Map(lecture.segments.map((s) => [s.segment_id, s.title]));
    this.clipNodes = new Map();
    this.editing = null;
  }

  render() {
    const duration = this.timeline.duration_s || 1;
    this.summary = h("p", { class: "summary" });
    this.log = h("ol", { class: "activity", role: "log", "aria-label": "Live updates" });
    this.editor = h("section", { class: "editor card", "aria-labelledby": "editor-title", hidden: true });
    const tracks = this.timeline.tracks.filter((track) => track.clips.length > 0).map((track) =>
      h("section", { class: `track track-${track.kind}`, "aria-label": `${TRACK_LABELS[track.kind]} track` },
        h("h2", { class: "track-name" }, TRACK_LABELS[track.kind]),
        h("ol", { class: "lane" }, track.clips.map((clip) => {
          const node = h("li", {
            class: "clip",
            style: {
              "--start": `${(clip.start_s / duration) * 100}%`,
              "--width": `${(clip.duration_s / duration) * 100}%`,
            },
            dataset: { assetId: clip.asset_id },
          });
          this.clipNodes.set(clip.asset_id, node);
          this.drawClip(clip.asset_id);
          return node;
        }))));
    this.main.replaceChildren(
      h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/", "data-nav": "" }, "All lectures")),
      h("h1", {}, this.lecture.title),
      this.summary,
      h("div", { class: "timeline", role: "region", "aria-label": "Timeline" },
        h("div", { class: "ruler", "aria-hidden": "true" },
          h("span", {}, "0 s"), h("span", {}, `${Math.round(duration)} s`)),
        tracks),
      this.editor,
      h("section", { class: "card", "aria-labelledby": "activity-title" },
        h("h2", { id: "activity-title" }, "Live updates"), this.log),
    );
    this.drawSummary();
  }

  receive(type, data, seq) {
    const state = this.replayed.get(data.asset_id);
    if (!state) return;
    const before = state.status;
    const live = !this.awaiting.has(data.asset_id);
    applyEvent(state, type, data);
    const target = this.awaiting.get(data.asset_id);
    if (target && reached(state, target)) this.awaiting.delete(data.asset_id);
    if (!this.awaiting.has(data.asset_id)) {
      this.assets.set(data.asset_id, state);
      this.drawClip(data.asset_id);
      this.drawSummary();
    }
    const what = this.describe(state);
    this.log.append(h("li", { dataset: { seq: String(seq), type } },
      h("span", { class: "seq" }, `#${seq}`), ` ${what}: ${happened(type, data)}`));
    this.log.scrollTop = this.log.scrollHeight;
    if (live && state.status !== before) {
      const code = state.error && state.status !== "generated" ? ` (${state.error.code})` : "";
      announce(`${what} is now ${label(state.status)}${code}.`);
    }
  }

  describe(state) {
    const segment = state.segmentId ? ` ${this.segmentTitles.get(state.segmentId) || state.segmentId}` : "";
    return `${KIND_LABELS[state.kind]}${segment}`;
  }

  drawSummary() {
    const counts = {};
    for (const state of this.assets.values()) counts[state.status] = (counts[state.status] || 0) + 1;
    const parts = Object.entries(counts).map(([status, n]) => `${n} ${label(status)}`);
    this.summary.textContent = `${this.lecture.segments.length} segments · ${parts.join(" · ")}`;
  }

  drawClip(assetId) {
    const node = this.clipNodes.get(assetId);
    const state = this.assets.get(assetId);
    if (!node || !state) return;
    node.className = `clip status-${state.status}`;
    node.dataset.status = state.status;
    node.setAttribute("aria-label", `${this.describe(state)}: ${label(state.status)}`);
    const frame = this.frameFor(node, state);
    const parts = [
      h("p", { class: "clip-title" }, this.describe(state),
        h("span", { class: "badge" }, label(state.status))),
      frame,
      this.detailsOf(state),
    ];
    if (canRegenerate(state)) {
      parts.push(h("button", { type: "button", class: "edit", onclick: () => this.openEditor(assetId) },
        `Edit and regenerate ${this.describe(state)}`));
    }
    node.replaceChildren(...parts);
  }

  // The media box keeps its size whatever it holds, so nothing jumps when media loads.
  frameFor(node, state) {
    const old = node.querySelector(".frame");
    if (old && old.dataset.src === (state.mediaUrl || "") && state.status === "generated") return old;
    const frame = h("div", { class: `frame frame-${state.kind}`, dataset: { src: state.mediaUrl || "" } });
    if (state.status !== "generated" || !state.mediaUrl) {
      frame.append(h("span", { class: "placeholder" }, state.status === "generated" ? "no media" : ""));
    } else if (state.kind === "image") {
      frame.append(h("img", { src: state.mediaUrl, alt: state.prompt, loading: "lazy", decoding: "async" }));
    } else if (state.kind === "video") {
      frame.append(h("video", { src: state.mediaUrl, controls: true, preload: "metadata",
        "aria-label": `${this.describe(state)} video` }));
    } else {
      frame.append(h("audio", { src: state.mediaUrl, controls: true, preload: "metadata",
        "aria-label": `${this.describe(state)} audio` }));
    }
    return frame;
  }

  detailsOf(state) {
    const lines = [];
    if (state.status === "pending" || state.status === "retrying") {
      if (state.waitingFor === "provider") lines.push(h("strong", { class: "waiting-for" }, "waiting for the provider to recover"));
      if (state.attempt) lines.push(h("span", { class: "attempt" }, `attempt ${state.attempt}`));
      if (state.error) lines.push(h("span", { class: "last-error" }, `last error: ${state.error.code} — ${state.error.message}`));
      if (state.nextAttemptAt && !state.waitingFor) lines.push(h("span", { class: "next-try" }, `next try at ${formatTime(state.nextAttemptAt)}`));
      if (!lines.length) lines.push(h("span", {}, "waiting for a worker"));
    } else if (state.status === "needs_prompt_update") {
      lines.push(h("strong", {}, "The provider rejected the prompt."));
      lines.push(h("span", { class: "error-code" }, state.error?.code || ""));
      lines.push(h("span", { class: "provider-message" }, state.error?.message || ""));
    } else if (state.status === "failed") {
      lines.push(h("span", { class: "error-code" }, state.error?.code || "failed"));
      lines.push(h("span", { class: "provider-message" }, state.error?.message || ""));
    } else {
      lines.push(h("span", { class: "model" }, state.model));
    }
    return h("p", { class: "details", title: lines.map((l) => l.textContent).join(" · ") }, lines);
  }

  openEditor(assetId) {
    const state = this.assets.get(assetId);
    const promptId = uid("prompt");
    const modelId = uid("model");
    const choice = this.media[state.kind] || { models: [] };
    const models = choice.models.includes(state.model) ? choice.models : [state.model, ...choice.models];
    const prompt = h("textarea", { id: promptId, name: "prompt", rows: 4, required: true });
    prompt.value = state.prompt;
    const alert = h("div", { class: "alert", role: "alert", hidden: true });
    const banner = state.error ? h("div", { class: "banner" },
      h("strong", {}, state.status === "needs_prompt_update"
        ? "The provider rejected the prompt: " : "Generation failed: "),
      `${state.error.message} (${state.error.code}${state.error.provider_code ? `, ${state.error.provider_code}` : ""})`) : null;
    const form = h("form", {},
      banner,
      h("div", { class: "field" }, h("label", { for: promptId }, "Prompt"), prompt),
      h("div", { class: "field" }, h("label", { for: modelId }, "Model"),
        h("select", { id: modelId, name: "model" },
          models.map((m) => h("option", { value: m, selected: m === state.model }, m)))),
      alert,
      h("div", { class: "actions" },
        h("button", { type: "submit" }, "Regenerate"),
        h("button", { type: "button", class: "quiet", onclick: () => this.closeEditor() }, "Cancel")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { prompt: prompt.value.trim(), model: form.elements.model.value };
      try {
        const accepted = await api(`/v1/assets/${encodeURIComponent(assetId)}/regenerate`, { method: "POST", body });
        // Shown at once; the stream's events take over when they reach the new version.
        this.assets.set(assetId, {
          ...state, status: "pending", prompt: body.prompt, model: body.model, error: null,
          attempt: null, nextAttemptAt: null, promptVersion: accepted.prompt_version,
        });
        this.awaiting.set(assetId, { status: "pending", promptVersion: accepted.prompt_version });
        this.drawClip(assetId);
        this.drawSummary();
        announce(`${this.describe(state)} is regenerating (version ${accepted.prompt_version}).`);
        this.closeEditor();
      } catch (err) {
        showProblem(alert, err);
      }
    });
    this.editor.replaceChildren(
      h("h2", { id: "editor-title" }, `${capitalised(state.kind)}: edit and regenerate`),
      h("p", { class: "help" }, this.describe(state)),
      form);
    this.editor.hidden = false;
    this.editing = assetId;
    prompt.focus();
  }

  closeEditor() {
    const assetId = this.editing;
    this.editor.hidden = true;
    this.editing = null;
    const button = this.clipNodes.get(assetId)?.querySelector("button.edit");
    if (button) button.focus();
  }
}

// One line of the live log: what the event says happened.
function happened(type, data) {
  const code = data.error ? ` (${data.error.code})` : "";
  switch (type) {
    case "asset.regeneration-requested": return `regeneration requested, version ${data.prompt_version}`;
    case "asset.attempt-started": return `attempt ${data.attempt} started`;
    case "asset.retrying": return data.waiting_for === "provider"
      ? `attempt ${data.attempt} held${code}: the provider is unavailable; it runs once the provider is back, without spending a retry`
      : `attempt ${data.attempt} failed${code}; next try at ${formatTime(data.next_attempt_at)}`;
    case "asset.generated": return `generated after ${data.attempts} attempt${data.attempts === 1 ? "" : "s"}`;
    case "asset.failed": return `failed${code}`;
    case "asset.needs-prompt-update": return `prompt rejected${code}`;
    default: return type;
  }
}
