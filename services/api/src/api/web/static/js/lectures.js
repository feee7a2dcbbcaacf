// The home view: the lectures, newest first, and the form that creates one.

import { api, ApiError } from "./api.js";
import { announce, h, uid } from "./dom.js";

const STATUSES = ["generated", "pending", "retrying", "needs_prompt_update", "failed"];
const MEDIA = ["image", "narration", "video", "music"];

export async function renderHome(main, { navigate }) {
  const list = h("tbody");
  const more = h("button", { type: "button", class: "quiet", hidden: true }, "Show older lectures");
  const empty = h("p", { class: "help", hidden: true }, "No lectures yet: create one below.");
  const models = await api("/v1/models");
  main.replaceChildren(
    h("h1", {}, "Lectures"),
    h("section", { "aria-labelledby": "list-title" },
      h("h2", { id: "list-title", class: "visually-hidden" }, "All lectures"),
      h("table", { class: "lectures" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Title"),
          h("th", { scope: "col" }, "Created"),
          h("th", { scope: "col" }, "Assets"))),
        list),
      empty,
      more),
    createForm(models.media, navigate),
  );
  let cursor = null;
  async function load() {
    const params = new URLSearchParams({ limit: "20" });
    if (cursor) params.set("cursor", cursor);
    const page = await api(`/v1/lectures?${params}`);
    for (const lecture of page.lectures) list.append(row(lecture, navigate));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    empty.hidden = list.children.length > 0;
  }
  more.addEventListener("click", load);
  await load();
}

function row(lecture, navigate) {
  const href = `/lectures/${encodeURIComponent(lecture.lecture_id)}`;
  const link = h("a", { href }, lecture.title);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    navigate(href);
  });
  const counts = STATUSES.filter((s) => lecture.counts[s] > 0).map((s) =>
    h("span", { class: `count status-${s}` }, `${lecture.counts[s]} ${label(s)}`));
  return h("tr", {},
    h("td", {}, link),
    h("td", {}, lecture.created_at ? new Date(lecture.created_at).toLocaleString() : ""),
    h("td", { class: "counts" }, counts.length ? counts : "no media"));
}

export function label(status) {
  return status === "needs_prompt_update" ? "needs prompt update" : status;
}

function textField(labelText, name, { multiline = false, required = false, value = "" } = {}) {
  const id = uid(name);
  const control = multiline
    ? h("textarea", { id, name, rows: 2, required })
    : h("input", { id, name, type: "text", required });
  control.value = value;
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control);
}

function segmentFieldset(number) {
  const id = uid("duration");
  const fieldset = h("fieldset", { class: "segment" },
    h("legend", {}, `Segment ${number}`),
    h("div", { class: "field short" },
      h("label", { for: id }, "Duration (seconds)"),
      h("input", { id, name: "duration_s", type: "number", min: "0.5", max: "600", step: "0.5",
        value: "5", required: true })),
    textField("Image prompt", "image_prompt", { multiline: true }),
    textField("Narration text", "narration_text", { multiline: true }),
    textField("Video prompt (optional)", "video_prompt", { multiline: true }),
  );
  const remove = h("button", { type: "button", class: "quiet" }, `Remove segment ${number}`);
  remove.addEventListener("click", () => {
    const form = fieldset.closest("form");
    fieldset.remove();
    renumber(form);
  });
  fieldset.append(remove);
  return fieldset;
}

function renumber(form) {
  const segments = [...form.querySelectorAll("fieldset.segment")];
  segments.forEach((fieldset, index) => {
    fieldset.querySelector("legend").textContent = `Segment ${index + 1}`;
    const remove = fieldset.querySelector("button");
    remove.textContent = `Remove segment ${index + 1}`;
    remove.hidden = segments.length === 1;
  });
}

function modelSelect(kind, choice) {
  const id = uid(`model-${kind}`);
  const select = h("select", { id, name: `model_${kind}` },
    choice.models.map((model) => h("option", { value: model, selected: model === choice.default }, model)));
  return h("div", { class: "field" }, h("label", { for: id }, `${capitalised(kind)} model`), select);
}

export function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function createForm(media, navigate) {
  const segments = h("div", { class: "segments" }, segmentFieldset(1));
  const add = h("button", { type: "button", class: "quiet" }, "Add segment");
  const alert = h("div", { class: "alert", role: "alert", hidden: true });
  const form = h("form", { class: "card", "aria-labelledby": "create-title", novalidate: false },
    h("h2", { id: "create-title" }, "New lecture"),
    textField("Title", "title", { required: true }),
    segments,
    add,
    textField("Music prompt (optional)", "music_prompt", { multiline: true }),
    h("fieldset", { class: "models" }, h("legend", {}, "Models"),
      MEDIA.map((kind) => modelSelect(kind, media[kind]))),
    alert,
    h("button", { type: "submit" }, "Create lecture"),
  );
  renumber(form);
  add.addEventListener("click", () => {
    const fieldset = segmentFieldset(segments.children.length + 1);
    segments.append(fieldset);
    renumber(form);
    fieldset.querySelector("input").focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    alert.hidden = true;
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const accepted = await api("/v1/lectures", { method: "POST", body: lectureRequest(form) });
      announce(`Lecture created with ${accepted.assets.length} assets.`);
      navigate(`/lectures/${encodeURIComponent(accepted.lecture_id)}`, { waitFor: accepted.event_id });
    } catch (err) {
      showProblem(alert, err);
      submit.disabled = false;
    }
  });
  return form;
}

export function showProblem(alert, err) {
  const details = err instanceof ApiError ? err.fieldErrors : [];
  const parts = [h("p", {}, `The API refused this (${err.status || "no answer"}): ${err.message}`)];
  if (details.length) parts.push(h("ul", {}, details.map((d) => h("li", {}, `${d.field}: ${d.message}`))));
  alert.replaceChildren(...parts);
  alert.hidden = false;
}

function value(scope, name) {
  const field = scope.querySelector(`[name="${name}"]`);
  return field ? field.value.trim() : "";
}

export function lectureRequest(form) {
  const model = (kind) => value(form, `model_${kind}`) || undefined;
  const segments = [...form.querySelectorAll("fieldset.segment")].map((fieldset) => {
    const segment = { duration_s: Number(value(fieldset, "duration_s")) };
    const image = value(fieldset, "image_prompt");
    const narration = value(fieldset, "narration_text");
    const video = value(fieldset, "video_prompt");
    if (image) segment.image = { prompt: image, model: model("image") };
    if (narration) segment.narration = { text: narration, model: model("narration") };
    if (video) segment.video = { prompt: video, model: model("video") };
    return segment;
  });
  const request = { title: value(form, "title"), segments };
  const music = value(form, "music_prompt");
  if (music) request.music = { prompt: music, model: model("music") };
  return request;
}
