/**
 * Mounts the task kind's editor on an annotator page; no inline script anywhere (strict CSP).
 *
 * Reads the `#editor-config` JSON block (rendered by the kind's template), imports the kind's ES
 * module from `config.module` and calls its `mount(root, config)` on `[data-editor-root]`. It also
 * owns what every editor page shares: the shortcut registry (passed to the editor as
 * `config.shortcuts`), the `?` help overlay, and the instructions drawer (`I`).
 *
 * When the page has them, it keeps `#result-json` (the live result) and `#editor-messages` (the
 * editor's own `validate()` messages) up to date, and asks the server to check the result by
 * firing `editor-change` on `#check-form` (htmx posts it). The mounted editor is
 * `window.labelhubEditor`; `document` gets an `editor:ready` event, then `editor:change` events.
 */

import { debounce } from "./lib/debounce.js";
import { HelpOverlay, Shortcuts } from "./lib/keyboard.js";

const configBlock = document.getElementById("editor-config");
const root = document.querySelector("[data-editor-root]");

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

async function start() {
  const config = JSON.parse(configBlock.textContent);
  const shortcuts = new Shortcuts();
  const help = new HelpOverlay(shortcuts);
  const drawer = document.getElementById("instructions-drawer");

  const toggleInstructions = () => {
    if (!drawer) return false;
    drawer.hidden = !drawer.hidden;
    return true;
  };
  shortcuts.add({ keys: ["?"], description: "Show or hide this help", run: () => help.toggle(), inDialogs: true });
  if (drawer) {
    shortcuts.add({ keys: ["i"], description: "Show or hide the instructions", run: toggleInstructions });
    shortcuts.add({ keys: ["alt+i"], description: "Instructions, also while typing", run: toggleInstructions, inInputs: true });
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || root.contains(button)) return;
    if (button.dataset.action === "show-help") help.open();
    if (button.dataset.action === "toggle-instructions") toggleInstructions();
  });

  const module = await import(new URL(config.module, document.baseURI).href);
  const editor = module.mount(root, { ...config, shortcuts });

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
    document.dispatchEvent(new CustomEvent("editor:change", { detail: { result } }));
  }
  if (checkForm && checkInput) {
    // A submit by button sends the current result too.
    checkForm.addEventListener("htmx:configRequest", (event) => {
      event.detail.parameters.result = JSON.stringify(editor.getResult());
    });
  }
  editor.onChange(update);
  update(editor.getResult());
  window.labelhubEditor = editor;
  root.dataset.mounted = "true";
  document.dispatchEvent(new CustomEvent("editor:ready", { detail: { editor } }));
}

if (configBlock && root) {
  start().catch((error) => {
    root.dataset.mounted = "failed";
    console.error("The editor could not start:", error);
  });
}
