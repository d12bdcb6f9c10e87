/**
 * The contributor's work screen, around the kind's editor (mounted by editor-page.js):
 *
 * - autosave: every change is saved as the lease's draft (debounced), so a closed tab or a crash
 *   loses nothing; the page warns before leaving while a save is pending or failed;
 * - active time: seconds on the task while the tab is visible and the person did something in the
 *   last minute (or audio is playing), sent with the submission and shown as the task clock;
 * - long work (a kind's lease_renewal_seconds, e.g. authoring an environment): while the person
 *   is active, the draft is saved again every so often, which renews the lease;
 * - Submit (Ctrl+Enter) and Skip (Alt+S), also while typing; the answer is checked by the editor
 *   first and its messages shown beside the button;
 * - the media of the likely next task is fetched into the cache while this one is worked on;
 * - a sensitive task's images are blurred (its text hidden) until "Reveal" / "Show" is clicked,
 *   and a suggested break can be dismissed.
 *
 * Submitting swaps in the next task (htmx); everything here then starts over for the new task.
 */

import { debounce } from "./lib/debounce.js";
import "./lib/reveal.js";

const IDLE_AFTER_MS = 60_000;
const SAVE_AFTER_MS = 800;

let task = null;

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  } catch {
    return "";
  }
}

function formatClock(ms) {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}

function setSaveState(text, kind = "") {
  const output = document.getElementById("save-state");
  if (!output) return;
  output.textContent = text;
  output.dataset.state = kind;
}

function showErrors(messages) {
  const box = document.getElementById("submit-errors");
  if (!box) return;
  box.replaceChildren();
  box.hidden = messages.length === 0;
  if (!messages.length) return;
  const intro = document.createElement("p");
  intro.textContent = "This answer cannot be submitted yet:";
  const list = document.createElement("ul");
  for (const message of messages) {
    const item = document.createElement("li");
    item.textContent = message;
    list.append(item);
  }
  box.append(intro, list);
}

/**
 * A blocked Submit says so where the person is: the number of things left next to the button,
 * every missing item marked by the editor (`showMissing()`, when it has one), and the focus on the
 * first of them, scrolled into view (else on the list of problems).
 */
function showBlocked(editor, problems) {
  showErrors(problems);
  const count = document.getElementById("submit-missing");
  if (count) {
    count.hidden = false;
    count.textContent = leftWords(editor, problems.length);
  }
  const first = (typeof editor.showMissing === "function" && editor.showMissing())
    || document.getElementById("submit-errors");
  if (!first) return;
  if (!first.hasAttribute("tabindex") && !first.matches("button, input, select, textarea, a[href]")) {
    first.setAttribute("tabindex", "-1");
  }
  first.scrollIntoView({ block: "center" });
  first.focus({ preventScroll: true });
}

/** "3 missing": the items the editor counts (`missingCount()`), else its problems. */
function leftWords(editor, problems) {
  const n = typeof editor.missingCount === "function" ? editor.missingCount() : problems;
  return `${n || problems} missing`;
}

function updateBlocked(editor) {
  const count = document.getElementById("submit-missing");
  if (!count || count.hidden) return;
  const problems = editor.validate();
  count.textContent = problems.length ? leftWords(editor, problems.length) : "";
  count.hidden = problems.length === 0;
  showErrors(problems);
}

function prefetch(url) {
  if (!url) return;
  if (url.startsWith("/")) {
    fetch(url, { credentials: "same-origin", priority: "low" }).catch(() => {});
  } else {
    const image = new Image();
    image.src = url;
  }
}

async function saveDraft(current) {
  if (current !== task || !current.dirty) return;
  current.dirty = false;
  current.saving = true;
  setSaveState("Saving…", "saving");
  const result = current.editor.getResult();
  try {
    let response = await putDraft(current, result, current.version);
    if (response.status === 409) {
      // Saved meanwhile in another tab of the same person: this tab's answer is the newer one.
      const body = await response.json();
      response = await putDraft(current, result, body.current_version);
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    current.version = body.version ?? current.version;
    current.savedAt = performance.now();
    if (current === task) setSaveState("Draft saved", "saved");
  } catch (error) {
    current.dirty = true;
    if (current === task) setSaveState("Not saved yet — retrying", "failed");
    setTimeout(() => saveDraft(current), 5000);
  } finally {
    current.saving = false;
  }
}

function putDraft(current, result, version) {
  return fetch(current.draftUrl, {
    method: "PUT",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ result, version }),
  });
}

function tick() {
  if (!task) return;
  const now = performance.now();
  const elapsed = now - task.lastTick;
  task.lastTick = now;
  const playing = [...task.panel.querySelectorAll("audio")].some((audio) => !audio.paused);
  const recent = now - task.lastInput < IDLE_AFTER_MS;
  if (document.visibilityState === "visible" && (recent || playing)) task.activeMs += elapsed;
  const clock = document.getElementById("task-clock");
  if (clock) clock.textContent = formatClock(task.activeMs);
  // Long work keeps its lease while the person works: a draft save renews it.
  if (task.renewMs && now - task.savedAt > task.renewMs && now - task.lastInput < task.renewMs
      && !task.saving) {
    task.savedAt = now;
    task.dirty = true;
    saveDraft(task);
  }
}

function begin(editor, shortcuts) {
  end();
  const panel = document.getElementById("task-panel");
  if (!panel || !panel.dataset.assignment) return;
  const now = performance.now();
  const current = {
    panel,
    editor,
    draftUrl: panel.dataset.draftUrl,
    version: Number(panel.dataset.version),
    activeMs: 0,
    lastTick: now,
    lastInput: now,
    savedAt: now,
    renewMs: Number(panel.dataset.renewSeconds || 0) * 1000,
    dirty: false,
    saving: false,
    cleanups: [],
  };
  current.save = debounce(() => saveDraft(current), SAVE_AFTER_MS);
  task = current;
  const submit = () => {
    document.getElementById("submit-form")?.requestSubmit();
  };
  const skip = () => {
    document.getElementById("skip-form")?.requestSubmit();
  };
  current.cleanups.push(
    shortcuts.add({ keys: ["ctrl+enter", "meta+enter"], description: "Submit and go to the next task", group: "Task", run: submit, inInputs: true }),
    shortcuts.add({ keys: ["alt+s"], description: "Skip this task (never counts against you)", group: "Task", run: skip, inInputs: true }),
  );
  setSaveState(panel.dataset.version > 1 ? "Draft restored" : "");
  prefetch(panel.dataset.prefetch);
  showInstructionsOnFirstTask(panel);
}

// A contributor's first task on a project opens with the instructions (Esc or I closes them).
const instructionsShown = new Set();
function showInstructionsOnFirstTask(panel) {
  const drawer = document.getElementById("instructions-drawer");
  if (!drawer || panel.dataset.firstTask !== "true" || instructionsShown.has(panel.dataset.assignment)) return;
  instructionsShown.add(panel.dataset.assignment);
  drawer.hidden = false;
}

function end() {
  if (!task) return;
  task.save.flush();
  for (const cleanup of task.cleanups) cleanup();
  task = null;
}

// Media that never loaded: no answer can be given, so offer the skip right where the work is.
function offerBrokenSkip() {
  const box = document.querySelector("#task-panel [data-testid=media-broken]");
  if (!box || !box.hidden) return;
  box.hidden = false;
  const submit = document.querySelector("#submit-form button[type=submit]");
  if (submit) submit.disabled = true;
  box.querySelector("[data-action=skip-broken]")?.focus();
}

document.addEventListener("editor:media-error", offerBrokenSkip);

document.addEventListener("click", (event) => {
  const dismiss = event.target.closest("[data-action=dismiss-break]");
  if (dismiss) dismiss.closest(".break-notice")?.remove();
});
document.addEventListener("click", (event) => {
  if (!event.target.closest("[data-action=skip-broken]")) return;
  const reason = document.getElementById("skip-reason");
  if (reason) reason.value = "broken";
  document.getElementById("skip-form")?.requestSubmit();
});
function ready(editor, shortcuts) {
  begin(editor, shortcuts);
  if (document.querySelector("[data-editor-root][data-media=broken]")) offerBrokenSkip();
}
document.addEventListener("editor:ready", (event) => ready(event.detail.editor, event.detail.shortcuts));
// On a page load with a task in progress (a reload, a link to the task), editor-page.js may have
// mounted the editor before this module ran: its editor:ready came too early to be heard.
if (window.labelhubEditor && !task) ready(window.labelhubEditor, window.labelhubShortcuts);
document.addEventListener("editor:change", (event) => {
  if (!task || event.detail.editor !== task.editor) return;
  task.dirty = true;
  task.lastInput = performance.now();
  updateBlocked(task.editor);
  setSaveState("Editing…", "dirty");
  task.save();
});
for (const type of ["keydown", "pointerdown", "wheel", "input"]) {
  document.addEventListener(type, () => {
    if (task) task.lastInput = performance.now();
  }, { passive: true, capture: true });
}
document.addEventListener("visibilitychange", () => {
  if (task) task.lastTick = performance.now();
  if (document.visibilityState === "hidden" && task) task.save.flush();
});
setInterval(tick, 1000);

document.addEventListener("htmx:configRequest", (event) => {
  const form = event.detail.elt;
  if (!task || !(form instanceof HTMLFormElement)) return;
  if (form.id === "submit-form") {
    const problems = task.editor.validate();
    if (problems.length) {
      event.preventDefault();
      showBlocked(task.editor, problems);
      return;
    }
    tick();
    task.save.cancel();
    event.detail.parameters.result = JSON.stringify(task.editor.getResult());
    event.detail.parameters.active_seconds = String(Math.round(task.activeMs / 1000));
  } else if (form.id === "skip-form") {
    task.save.cancel();
  }
});
document.addEventListener("htmx:beforeSwap", (event) => {
  // The task was answered or skipped: its draft no longer matters.
  if (task && event.detail.target?.id === "task-panel" && event.detail.xhr.status < 300) {
    task.dirty = false;
    task.save.cancel();
  }
});
window.addEventListener("beforeunload", (event) => {
  if (task && (task.dirty || task.saving)) {
    task.save.flush();
    event.preventDefault();
  }
});
