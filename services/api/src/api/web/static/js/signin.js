// Sign in with an API token: checked against the API before it is kept.

import { api, ApiError } from "./api.js";
import { h } from "./dom.js";
import { signIn } from "./session.js";

export function renderSignIn(main, { message, onSignedIn }) {
  const alert = h("p", { id: "sign-in-error", class: "alert", role: "alert" }, message || "");
  alert.hidden = !message;
  const field = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "current-password",
    required: true,
    "aria-describedby": "token-help sign-in-error",
  });
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in"),
    h("label", { for: "token" }, "API token"),
    field,
    h("p", { id: "token-help", class: "help" },
      "One of the API's tokens (LECTUREGEN_API_TOKENS); `lecturegen up` prints a link that signs in."),
    alert,
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const candidate = field.value.trim();
    alert.hidden = true;
    try {
      await api("/v1/lectures?limit=1", { bearer: candidate });
    } catch (err) {
      alert.textContent = refusal(err);
      alert.hidden = false;
      field.setAttribute("aria-invalid", "true");
      field.focus();
      return;
    }
    signIn(candidate);
    onSignedIn();
  });
  main.replaceChildren(form);
  field.focus();
}

function refusal(err) {
  if (err instanceof ApiError && err.status === 401) {
    return `The API refused this token: ${err.message}.`;
  }
  return `Could not sign in: ${err.message}`;
}
