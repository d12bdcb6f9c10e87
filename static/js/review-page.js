/**
 * The review screen's keys and fix mode; the editor itself is mounted by editor-page.js.
 *
 * Until the reviewer starts a fix, A accepts, R goes to the reject reason and F starts a fix
 * (these keys are caught before the editor's own, which also use letters). In fix mode (F, the
 * button, or any change made in the editor) the editor's keys are live and Alt+Enter saves the
 * fix with the editor's current result. "Start the fix from this answer" on any contributor's
 * answer loads that answer into the editor and starts a fix from it (one click). No inline
 * script: the CSP forbids it. A sensitive task stays blurred until Reveal (lib/reveal.js).
 */
import "./lib/reveal.js";

const form = document.getElementById("review-form");
const resultInput = document.getElementById("review-result");
const saveFix = form?.querySelector('[data-testid="save-fix"]');
const fixHint = document.getElementById("fix-hint");
const comment = document.getElementById("review-comment");
let fixing = false;
let ready = false;

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

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

function editorReady() {
  ready = true;
  document.body.dataset.reviewMode = "review";
}

if (form) {
  document.addEventListener("editor:ready", editorReady);
  // editor-page.js may have mounted the editor before this module ran (its kind's module came
  // from the cache while ours still waited on lib/reveal.js): then its editor:ready is gone.
  if (document.querySelector('[data-editor-root][data-mounted="true"]')) editorReady();
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
      if (event.altKey && event.key === "Enter" && fixing) {
        event.preventDefault();
        event.stopPropagation();
        submitWith("fix");
        return;
      }
      if (fixing || typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
      const key = event.key.toLowerCase();
      if (!["a", "r", "f"].includes(key)) return;
      event.preventDefault();
      event.stopPropagation();
      if (key === "a") submitWith("accept");
      if (key === "r") comment.focus();
      if (key === "f") startFix();
    },
    true,
  );
}
