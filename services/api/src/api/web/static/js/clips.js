// What the page knows about each asset, and how one live event changes it. No DOM here.

export function assetState(asset) {
  return {
    assetId: asset.asset_id,
    kind: asset.kind,
    segmentId: asset.segment_id,
    status: asset.status,
    prompt: asset.prompt,
    model: asset.model,
    promptVersion: asset.prompt_version,
    mediaUrl: asset.media_url,
    contentType: asset.content_type,
    error: asset.error,
    retriedCount: asset.retried_count,
    attempt: null,
    nextAttemptAt: null,
    waitingFor: asset.waiting_for || null,
  };
}

// The asset as it was when its lecture was created: where a replay of its events starts.
export function initialState(asset) {
  return {
    ...assetState(asset),
    status: "pending",
    promptVersion: 1,
    mediaUrl: null,
    contentType: null,
    error: null,
    retriedCount: 0,
    waitingFor: null,
  };
}

// Whether a replayed state has reached what a read of the views showed.
export function reached(state, target) {
  return state.status === target.status && state.promptVersion === target.promptVersion;
}

// Applies one event of the lecture's feed to the asset it names. `asset_status` is the
// asset's status after the event, as the projector stored it; an event that did not apply
// (an older version's) changes nothing else.
export function applyEvent(state, type, data) {
  if (data.asset_status) state.status = data.asset_status;
  if (data.asset_prompt_version) state.promptVersion = data.asset_prompt_version;
  if (data.applied === false) return state;
  // Only a held `asset.retrying` says the asset waits for its provider; any later event ends it.
  state.waitingFor = type === "asset.retrying" ? data.waiting_for || null : null;
  switch (type) {
    case "asset.regeneration-requested":
      Object.assign(state, {
        prompt: data.prompt, model: data.model, error: null, attempt: null, nextAttemptAt: null,
      });
      break;
    case "asset.attempt-started":
      Object.assign(state, { attempt: data.attempt, nextAttemptAt: null });
      break;
    case "asset.retrying":
      Object.assign(state, {
        attempt: data.attempt,
        error: data.error,
        retriedCount: data.retried_count,
        nextAttemptAt: data.next_attempt_at,
      });
      break;
    case "asset.generated":
      Object.assign(state, {
        mediaUrl: `/media/${data.media.blob_key}`,
        contentType: data.media.content_type,
        error: null,
        prompt: data.prompt,
        model: data.model,
        attempt: data.attempts,
        nextAttemptAt: null,
      });
      break;
    case "asset.failed":
    case "asset.needs-prompt-update":
      Object.assign(state, {
        error: data.error,
        prompt: data.prompt,
        model: data.model,
        attempt: data.attempts,
        retriedCount: data.retried_count,
        nextAttemptAt: null,
      });
      break;
    default:
      break;
  }
  return state;
}

export const TRACK_LABELS = {
  visual: "Visual",
  video: "Video",
  narration: "Narration",
  music: "Music",
};

export const KIND_LABELS = {
  image: "Image",
  video: "Video",
  narration: "Narration",
  music: "Music",
};

export function canRegenerate(state) {
  return state.status === "failed" || state.status === "needs_prompt_update";
}
