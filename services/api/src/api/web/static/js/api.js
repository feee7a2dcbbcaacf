// Calls to the public API with the signed-in token; errors carry the problem's detail.

import { token } from "./session.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `the API answered ${status}`);
    this.status = status;
    this.problem = problem || {};
  }

  get fieldErrors() {
    return this.problem.errors || [];
  }
}

export async function api(path, { method = "GET", body, bearer = token() } = {}) {
  const headers = { Accept: "application/json" };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, { detail: "the API cannot be reached; is it running?" });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && bearer && bearer === token()) {
      window.dispatchEvent(new CustomEvent("lecturegen:unauthorized", { detail: error }));
    }
    throw error;
  }
  return data;
}

export function eventsUrl(lectureId, { lastEventId, waitFor } = {}) {
  const params = new URLSearchParams({ access_token: token() || "" });
  if (lastEventId) params.set("last_event_id", lastEventId);
  else if (waitFor) params.set("wait_for", waitFor);
  return `/v1/lectures/${encodeURIComponent(lectureId)}/events?${params}`;
}
