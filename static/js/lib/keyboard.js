/**
 * One keyboard-shortcut registry per page, and the `?` help overlay that lists it.
 *
 * A shortcut is written like "ctrl+shift+z", "alt+k", "arrowleft", "shift+arrowup", "space", "?", "1".
 * Letters and digits match by physical key too (event.code), so Alt+K still works on a Mac where
 * Alt+K types "˚". Symbols such as "?" match whatever modifiers produced them.
 *
 * The one guard for "no shortcut while typing", used by every screen: while the focus is in a text
 * field (an input that takes text, a textarea, a select or anything contenteditable; see
 * `isTyping`), a key that types or edits text never fires a shortcut. Only shortcuts registered
 * with `inInputs: true` fire there at all, and only chords (`firesWhileTyping`): Escape, or a key
 * held with Ctrl, Alt or Meta (Alt+Enter, Ctrl+Enter, Alt+I…). A letter, a digit, Shift+letter,
 * Space, Backspace, Enter, Tab or an arrow always reaches the text box; `add` refuses to register
 * one of those with `inInputs`, so no screen can get it wrong.
 */

const MODIFIERS = ["ctrl", "alt", "meta", "shift"];
const CODE_SYMBOLS = {
  Comma: ",", Period: ".", BracketLeft: "[", BracketRight: "]", Slash: "/", Minus: "-",
  Equal: "=", Semicolon: ";", Quote: "'", Backslash: "\\", Backquote: "`",
};
const KEY_ALIASES = { " ": "space", esc: "escape", del: "delete", spacebar: "space" };
const KEY_LABELS = {
  arrowleft: "←", arrowright: "→", arrowup: "↑", arrowdown: "↓", space: "Space", escape: "Esc",
  delete: "Del", backspace: "Backspace", enter: "Enter", ctrl: "Ctrl", alt: "Alt", shift: "Shift",
  meta: "⌘", tab: "Tab",
};

function baseFromCode(code) {
  let match = /^Key([A-Z])$/.exec(code || "");
  if (match) return match[1].toLowerCase();
  match = /^(?:Digit|Numpad)(\d)$/.exec(code || "");
  if (match) return match[1];
  return CODE_SYMBOLS[code] || null;
}

function keyName(key) {
  const lower = (key || "").toLowerCase();
  return KEY_ALIASES[lower] || KEY_ALIASES[key] || lower;
}

/** Normalise a written shortcut ("Shift+Ctrl+Z") to the canonical "ctrl+shift+z". */
export function normalizeCombo(combo) {
  if (combo === "+") return "+";
  const parts = combo.toLowerCase().split("+").map((part) => part.trim());
  const key = keyName(parts.pop());
  const mods = MODIFIERS.filter((mod) => parts.includes(mod));
  return [...mods, key].join("+");
}

/** The canonical names a keydown event answers to. */
export function comboNames(event) {
  const mods = [];
  if (event.ctrlKey) mods.push("ctrl");
  if (event.altKey) mods.push("alt");
  if (event.metaKey) mods.push("meta");
  const withShift = event.shiftKey ? [...mods, "shift"] : mods;
  const names = new Set();
  const fromCode = baseFromCode(event.code);
  if (fromCode) names.add([...withShift, fromCode].join("+"));
  const key = keyName(event.key);
  names.add([...withShift, key].join("+"));
  if (event.key && event.key.length === 1 && !/[\p{L}\p{N}]/u.test(event.key)) {
    names.add([...mods, key].join("+")); // "?" is typed with Shift: match it without
  }
  return [...names];
}

/** "ctrl+shift+z" → "Ctrl+Shift+Z" for people. */
export function comboLabel(combo) {
  return normalizeCombo(combo)
    .split("+")
    .map((part) => KEY_LABELS[part] || (part.length === 1 ? part.toUpperCase() : part))
    .join("+");
}

export function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !["button", "checkbox", "radio", "range", "submit", "reset", "color"].includes(target.type);
  }
  return false;
}

/** Whether a shortcut may fire while the person types: Escape, or a chord with Ctrl, Alt or Meta.
 * Everything else (a letter, a digit, a symbol, Space, Enter, Backspace, an arrow, with or
 * without Shift) is typing or moving the caret, and belongs to the text box. */
export function firesWhileTyping(combo) {
  const parts = normalizeCombo(combo).split("+");
  const key = parts.pop();
  if (key === "escape") return true;
  return parts.some((mod) => ["ctrl", "alt", "meta"].includes(mod));
}

/** Radio groups and sliders move with the arrow keys: leave those keys to them. */
function usesArrows(target) {
  return target instanceof HTMLInputElement && ["radio", "range"].includes(target.type);
}

export class Shortcuts {
  constructor(target = document) {
    this.target = target;
    this.entries = [];
    this.onKeydown = (event) => this.dispatch(event);
    target.addEventListener("keydown", this.onKeydown);
  }

  /**
   * Register a shortcut; returns a function that removes it.
   * `run(event)` may return false to let the key through: to the next entry with the same key,
   * else to the browser (its default is not prevented).
   * `inDialogs` lets it fire while a modal dialog (such as this help) is open.
   * Without `run` the entry is only listed in the help (for held keys such as Space+drag).
   */
  add({ keys, description, group = "General", run = null, inInputs = false, inDialogs = false }) {
    const entry = { keys: keys.map(normalizeCombo), description, group, run, inInputs, inDialogs };
    const typingKeys = inInputs ? entry.keys.filter((key) => !firesWhileTyping(key)) : [];
    if (typingKeys.length) {
      throw new Error(`A shortcut that works while typing needs Escape, Ctrl, Alt or Meta: ${typingKeys.join(", ")}.`);
    }
    this.entries.push(entry);
    return () => {
      this.entries = this.entries.filter((other) => other !== entry);
    };
  }

  dispatch(event) {
    if (event.defaultPrevented || event.isComposing) return;
    const typing = isTyping(event.target);
    if (event.key.startsWith("Arrow") && usesArrows(event.target)) return;
    const names = comboNames(event);
    const dialogOpen = Boolean(document.querySelector("dialog[open]"));
    for (const entry of this.entries) {
      if (!entry.run || (typing && !entry.inInputs) || (dialogOpen && !entry.inDialogs)) continue;
      const matched = entry.keys.filter((key) => names.includes(key));
      if (!matched.length || (typing && !matched.some(firesWhileTyping))) continue;
      if (entry.run(event) === false) continue; // not for this one: the next entry may take it
      event.preventDefault();
      return;
    }
  }

  /** Entries grouped for the help overlay: [[group, [entry…]]…] in registration order. */
  groups() {
    const groups = new Map();
    for (const entry of this.entries) {
      if (!groups.has(entry.group)) groups.set(entry.group, []);
      groups.get(entry.group).push(entry);
    }
    return [...groups.entries()];
  }

  destroy() {
    this.target.removeEventListener("keydown", this.onKeydown);
    this.entries = [];
  }
}

/** The `?` overlay: a <dialog> listing every registered shortcut, built fresh on each opening. */
export class HelpOverlay {
  constructor(shortcuts, { title = "Keyboard shortcuts" } = {}) {
    this.shortcuts = shortcuts;
    this.dialog = document.createElement("dialog");
    this.dialog.className = "shortcut-help";
    this.dialog.setAttribute("aria-label", title);
    this.dialog.dataset.testid = "shortcut-help";
    this.title = title;
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog || event.target.closest("[data-close]")) this.close();
    });
    document.body.append(this.dialog);
  }

  get isOpen() {
    return this.dialog.open;
  }

  render() {
    const head = document.createElement("div");
    head.className = "drawer-head";
    const h2 = document.createElement("h2");
    h2.textContent = this.title;
    const close = document.createElement("button");
    close.type = "button";
    close.dataset.close = "";
    close.textContent = "Close (Esc)";
    head.append(h2, close);
    const body = document.createElement("div");
    body.className = "shortcut-groups";
    for (const [group, entries] of this.shortcuts.groups()) {
      const section = document.createElement("section");
      const h3 = document.createElement("h3");
      h3.textContent = group;
      const table = document.createElement("table");
      for (const entry of entries) {
        const row = table.insertRow();
        const keys = row.insertCell();
        entry.keys.forEach((key, i) => {
          if (i) keys.append(" or ");
          const kbd = document.createElement("kbd");
          kbd.textContent = comboLabel(key);
          keys.append(kbd);
        });
        row.insertCell().textContent = entry.description;
      }
      section.append(h3, table);
      body.append(section);
    }
    this.dialog.replaceChildren(head, body);
  }

  open() {
    this.render();
    this.dialog.showModal();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.open();
  }

  destroy() {
    this.dialog.remove();
  }
}
