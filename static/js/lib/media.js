/**
 * Media that never loaded: an editor must not take an answer on an image or a clip nobody saw.
 *
 * `reportBrokenMedia(root, message)` marks the editor (`data-media="broken"`) and tells the page
 * (`editor:media-error` on `document`, detail `{root, message}`): the work screen then offers
 * "Skip: broken media" and the editor's `validate()` returns the message, so Submit is refused.
 */

export function reportBrokenMedia(root, message) {
  if (root.dataset.media === "broken") return;
  root.dataset.media = "broken";
  document.dispatchEvent(new CustomEvent("editor:media-error", { detail: { root, message } }));
}

export function mediaBroken(root) {
  return root.dataset.media === "broken";
}
