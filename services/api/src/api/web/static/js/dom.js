// A tiny element builder: h("p", {class: "x"}, "text", child). No framework, no build step.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    // Through the CSSOM: the page's Content-Security-Policy refuses inline style attributes.
    else if (name === "style") for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, v);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

let ids = 0;
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

// Says something to screen readers through the page's polite live region.
export function announce(text) {
  const region = document.getElementById("announcer");
  region.textContent = "";
  // A fresh text node after clearing makes every message be read, even a repeated one.
  requestAnimationFrame(() => { region.textContent = text; });
}

export function formatTime(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  return at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
