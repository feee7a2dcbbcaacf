// The API token, kept for this tab only (sessionStorage), never in the address bar.

const KEY = "lecturegen.token";

export function token() {
  return sessionStorage.getItem(KEY);
}

export function signIn(value) {
  sessionStorage.setItem(KEY, value);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

// A link with `?token=` signs in once: the token is stored and removed from the address bar
// (and so from the history), whatever else the address holds.
export function adoptTokenFromLink() {
  const url = new URL(window.location.href);
  const linked = url.searchParams.get("token");
  if (linked === null) return null;
  url.searchParams.delete("token");
  history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  return linked.trim() || null;
}
