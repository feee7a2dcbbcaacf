// The page's entry point: sign-in, then the view the address names. Deep links work on reload.

import { renderLecture } from "./timeline.js";
import { renderHome } from "./lectures.js";
import { renderSignIn } from "./signin.js";
import { h } from "./dom.js";
import { adoptTokenFromLink, signIn, signOut, token } from "./session.js";

const main = document.getElementById("main");
const connection = document.getElementById("connection");
const signOutButton = document.getElementById("sign-out");
let leaveView = () => {};

const CONNECTION_TEXT = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
};

function setConnection(state) {
  connection.textContent = CONNECTION_TEXT[state] || "";
  connection.dataset.state = state || "";
}

function navigate(path, state = {}) {
  history.pushState(state, "", path);
  route();
}

async function route(message) {
  leaveView();
  leaveView = () => {};
  setConnection(null);
  if (!token()) {
    signOutButton.hidden = true;
    renderSignIn(main, { message, onSignedIn: () => route() });
    return;
  }
  signOutButton.hidden = false;
  main.setAttribute("aria-busy", "true");
  try {
    const match = window.location.pathname.match(/^\/lectures\/([^/]+)$/);
    if (match) {
      const lectureId = decodeURIComponent(match[1]);
      const waitFor = history.state?.waitFor;
      leaveView = await renderLecture(main, lectureId, { waitFor, setConnection });
    } else {
      await renderHome(main, { navigate });
    }
  } catch (err) {
    if (err.status === 401) return; // the unauthorized handler shows the sign-in form
    main.replaceChildren(
      h("h1", {}, err.status === 404 ? "Not found" : "Something went wrong"),
      h("p", { class: "alert", role: "alert" }, err.message),
      h("p", {}, h("a", { href: "/", "data-nav": "" }, "All lectures")));
  } finally {
    main.removeAttribute("aria-busy");
  }
}

window.addEventListener("lecturegen:unauthorized", () => {
  signOut();
  route("The API no longer accepts your token; sign in again.");
});
window.addEventListener("popstate", () => route());
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-nav]");
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
signOutButton.addEventListener("click", () => {
  signOut();
  navigate("/");
});

const linked = adoptTokenFromLink();
if (linked) signIn(linked);
route();
