/**
 * Mounts the task kind's editor on an annotator page; no inline script anywhere (strict CSP).
 *
 * Reads the `data-config` JSON of `#editor-config` (rendered by the kind's template), imports the kind's ES
 * module from `config.module` and calls its `mount(root, config)` on `[data-editor-root]`. It also
 * owns what every editor page shares: the shortcut registry (passed to the editor as
 * `config.shortcuts`), the `?` help overlay, and the instructions drawer (`I`).
 *
 * When the page has them, it keeps `#result-json` (the live result) and `#editor-messages` (the
 * editor's own `validate()` messages) up to date, and asks the server to check the result by
 * firing `editor-change` on `#check-form` (htmx posts it). The mounted editor is
 * `window.labelhubEditor`; `document` gets an `editor:ready` event (detail: `{editor, shortcuts}`),
 * then `editor:change` events. When htmx swaps in new editor markup (the work screen's next task),
 * the old editor is destroyed and the new one mounted.
 */

import { debounce } from "./lib/debounce.js";
import { HelpOverlay, Shortcuts } from "./lib/keyboard.js";

function show(list, messages) {
  list.replaceChildren(
    ...messages.map((message) => {
      const li = document.createElement("li");
      li.textContent = message;
      return li;
    }),
  );
  list.classList.toggle("has-messages", messages.length > 0);
}

const shortcuts = new Shortcuts();
const help = new HelpOverlay(shortcuts);
let current = null; // { root, editor, cleanups }

function toggleInstructions() {
  const drawer = document.getElementById("instructions-drawer");
  if (!drawer) return false;
  drawer.hidden = !drawer.hidden;
  return true;
}

function closeInstructions() {
  const drawer = document.getElementById("instructions-drawer");
  if (!drawer || drawer.hidden) return false; // Esc then goes on to the editor (deselect, …)
  drawer.hidden = true;
  return true;
}

function setUpPage() {
  shortcuts.add({ keys: ["?"], description: "Show or hide this help", run: () => help.toggle(), inDialogs: true });
  if (document.getElementById("instructions-drawer")) {
    shortcuts.add({ keys: ["i"], description: "Show or hide the instructions", run: toggleInstructions });
    shortcuts.add({ keys: ["alt+i"], description: "Instructions, also while typing", run: toggleInstructions, inInputs: true });
    shortcuts.add({ keys: ["escape"], description: "Close the instructions", run: closeInstructions, inInputs: true });
  }
  // A form marked `data-editor-result` posts the editor's current result (e.g. "save as gold").
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-editor-result]");
    if (!form || !current) return;
    form.querySelector('input[name="result"]').value = JSON.stringify(current.editor.getResult());
  }, true);
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || (current && current.root.contains(button))) return;
    if (button.dataset.action === "show-help") help.open();
    if (button.dataset.action === "toggle-instructions") toggleInstructions();
  });
}

function unmount() {
  if (!current) return;
  for (const cleanup of current.cleanups) cleanup();
  current.editor.destroy();
  current = null;
  window.labelhubEditor = null;
}

async function mount() {
  const configBlock = document.getElementById("editor-config");
  const root = document.querySelector("[data-editor-root]");
  if (current && current.root === root) return;
  if (root && root.dataset.mounted === "pending") return; // already on its way
  unmount();
  if (!configBlock || !root) return;
  root.dataset.mounted = "pending";
  const config = JSON.parse(configBlock.dataset.config);
  const module = await import(new URL(config.module, document.baseURI).href);
  if (!root.isConnected) return; // swapped out while the module loaded
  const editor = module.mount(root, { ...config, shortcuts });
  const cleanups = [];
  current = { root, editor, cleanups };

  const output = document.getElementById("result-json");
  const messages = document.getElementById("editor-messages");
  const checkForm = document.getElementById("check-form");
  const checkInput = document.getElementById("check-result-input");
  const askServer = debounce(() => {
    checkInput.value = JSON.stringify(editor.getResult());
    checkForm.dispatchEvent(new CustomEvent("editor-change"));
  }, 150);

  function update(result) {
    if (output) output.textContent = JSON.stringify(result, null, 2);
    if (messages) show(messages, editor.validate());
    if (checkForm && checkInput) askServer();
    document.dispatchEvent(new CustomEvent("editor:change", { detail: { result, editor } }));
  }
  if (checkForm && checkInput) {
    // A submit by button sends the current result too.
    const fill = (event) => {
      event.detail.parameters.result = JSON.stringify(editor.getResult());
    };
    checkForm.addEventListener("htmx:configRequest", fill);
    cleanups.push(() => checkForm.removeEventListener("htmx:configRequest", fill));
  }
  const onBroken = (event) => {
    if (event.detail.root === root && messages) show(messages, editor.validate());
  };
  document.addEventListener("editor:media-error", onBroken);
  cleanups.push(() => document.removeEventListener("editor:media-error", onBroken));
  const unsubscribe = editor.onChange(update);
  if (typeof unsubscribe === "function") cleanups.push(unsubscribe);
  update(editor.getResult());
  window.labelhubEditor = editor;
  root.dataset.mounted = "true";
  document.dispatchEvent(new CustomEvent("editor:ready", { detail: { editor, shortcuts } }));
}

function mountSafely() {
  mount().catch((error) => {
    const root = document.querySelector("[data-editor-root]");
    if (root) root.dataset.mounted = "failed";
    console.error("The editor could not start:", error);
  });
}

setUpPage();
window.labelhubShortcuts = shortcuts;
mountSafely();
// htmx swapped in new content (e.g. the next task): mount its editor, or drop the old one.
// (htmx:load fires on the new content; settle events of an outerHTML swap fire on the old,
// detached element and never reach the document.)
document.addEventListener("htmx:load", mountSafely);
