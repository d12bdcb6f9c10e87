/**
 * The review screen's keys and fix mode; the editor itself is mounted by editor-page.js.
 *
 * The verdicts have Alt keys: Alt+A accepts, Alt+R goes to the reject reason, Alt+F starts a fix
 * and Alt+Enter saves it. Plain letters stay the editor's (R writes a rationale, A prefers
 * response A…), so a letter means one thing on every screen; the verdict keys are listed under
 * "Review" in the `?` help. In fix mode (Alt+F, the button, or any change made in the editor)
 * Alt+Enter saves the fix with the editor's current result, except in a text box of the editor
 * that saves its own text with Alt+Enter (marked `data-alt-enter`: an agent run's correction or
 * note). "Start the fix from this answer" on any contributor's answer loads that answer into the
 * editor and starts a fix from it (one click). No inline script: the CSP forbids it. A sensitive
 * task stays blurred until Reveal (lib/reveal.js).
 */
import { isTyping } from "./lib/keyboard.js";
import "./lib/reveal.js";

const form = document.getElementById("review-form");
const resultInput = document.getElementById("review-result");
const saveFix = form?.querySelector('[data-testid="save-fix"]');
const fixHint = document.getElementById("fix-hint");
const comment = document.getElementById("review-comment");
let fixing = false;
let ready = false;

function startFix() {
  fixing = true;
  saveFix.hidden = false;
  fixHint.hidden = false;
  document.body.dataset.reviewMode = "fix";
}

function fixFrom(button) {
  const editor = window.labelhubEditor;
  if (!editor) return;
  editor.setResult(JSON.parse(button.dataset.result));
  startFix();
  document.querySelector('[data-testid="fix-source"]').textContent = ` from ${button.dataset.name}'s answer`;
  for (const other of document.querySelectorAll('[data-action="fix-from"]')) {
    other.setAttribute("aria-pressed", String(other === button));
  }
  document.querySelector("[data-editor-root]")?.scrollIntoView({ block: "nearest" });
}

function submitWith(verdict) {
  const button = form.querySelector(`button[name="verdict"][value="${verdict}"]`);
  form.requestSubmit(button);
}

function editorReady(shortcuts) {
  ready = true;
  document.body.dataset.reviewMode = "review";
  // Listed in the `?` help (the keys themselves are caught below, before the editor's).
  if (shortcuts && !shortcuts.reviewListed) {
    shortcuts.reviewListed = true;
    const group = "Review";
    shortcuts.add({ keys: ["alt+a"], description: "Accept the answer as it is", group });
    shortcuts.add({ keys: ["alt+r"], description: "Reject: go to the reason (the contributor sees it)", group });
    shortcuts.add({ keys: ["alt+f"], description: "Fix it in the editor (the editor's keys are live)", group });
    shortcuts.add({ keys: ["alt+enter"], description: "Save the fix", group });
  }
}

if (form) {
  document.addEventListener("editor:ready", (event) => editorReady(event.detail?.shortcuts));
  // editor-page.js may have mounted the editor before this module ran (its kind's module came
  // from the cache while ours still waited on lib/reveal.js): then its editor:ready is gone.
  if (document.querySelector('[data-editor-root][data-mounted="true"]')) {
    editorReady(window.labelhubShortcuts);
  }
  // The change fired while mounting comes before editor:ready; later ones are the reviewer's.
  document.addEventListener("editor:change", () => {
    if (ready && !fixing) startFix();
  });
  form.addEventListener("submit", (event) => {
    if (event.submitter?.value === "fix" && window.labelhubEditor) {
      resultInput.value = JSON.stringify(window.labelhubEditor.getResult());
    }
  });
  form.querySelector('[data-action="fix-mode"]').addEventListener("click", startFix);
  for (const button of document.querySelectorAll('[data-action="fix-from"]')) {
    button.addEventListener("click", () => fixFrom(button));
  }

  // Capture phase: runs before the editor's shortcut registry on document.
  window.addEventListener(
    "keydown",
    (event) => {
      // A part of the editor that saves its own text with Alt+Enter (an agent run's
      // correction or note, marked data-alt-enter) keeps the key while it has the focus.
      const ownsAltEnter = event.target instanceof Element && event.target.closest("[data-editor-root] [data-alt-enter]");
      if (event.altKey && event.key === "Enter" && fixing && !ownsAltEnter) {
        event.preventDefault();
        event.stopPropagation();
        submitWith("fix");
        return;
      }
      if (!event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
      // By physical key: on a Mac, Alt+A types "å".
      const key = /^Key([ARF])$/.exec(event.code)?.[1];
      if (!key || (fixing && key !== "R")) return;
      event.preventDefault();
      event.stopPropagation();
      if (key === "A") submitWith("accept");
      if (key === "R") comment.focus();
      if (key === "F") startFix();
    },
    true,
  );
}
