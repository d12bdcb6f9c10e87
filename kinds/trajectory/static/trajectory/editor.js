/**
 * The agent-run editor: `mount(root, config)` → { getResult, setResult, validate, onChange, destroy }.
 *
 * The template renders the run (header, minimap, one card per step; long outputs cut to their
 * first lines). This module keeps the answer (state.js: pure, the server's rules), draws it on
 * the cards (render.js) and takes the keys and clicks (handlers.js): `j`/`k` move between agent
 * steps, digits rate, `e` marks the first error, `t` its error type, `o` a note, `c` corrects the step
 * (prefilled with the original, with a word diff), `v` the verdict, `s` the rubric, `f` failure
 * modes, `w` the critique.
 *
 * Long runs stay smooth: the page holds only the first lines of a long output (the full text is
 * put in when asked for), a change redraws only the steps it touches, and screenshots load
 * lazily. The cards are laid out once when the run opens; scrolling then costs the main thread
 * a few milliseconds a frame (see tests/trajectory/test_editor.py).
 */

import { Shortcuts } from "../js/lib/keyboard.js";
import { bind } from "./handlers.js";
import { RunView } from "./render.js";
import { RunAnswer } from "./state.js";

function pretty(text) {
  const trimmed = (text || "").trim();
  if (trimmed.length > 100_000 || !(trimmed.startsWith("{") || trimmed.startsWith("["))) return text;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    return text;
  }
}

function placeClick(marker) {
  const image = marker.parentElement.querySelector("img");
  const place = () => {
    if (!image.naturalWidth) return;
    marker.style.left = `${(100 * Number(marker.dataset.x)) / image.naturalWidth}%`;
    marker.style.top = `${(100 * Number(marker.dataset.y)) / image.naturalHeight}%`;
    marker.hidden = false;
  };
  if (image.complete) place();
  else image.addEventListener("load", place, { once: true });
}

export function mount(root, config) {
  const schema = config.schema || {};
  const data = config.data || {};
  const answer = new RunAnswer(schema, data);
  const view = new RunView(root, answer);
  const listeners = new Set();
  const messages = document.getElementById("editor-messages");
  const ctx = {
    root,
    answer,
    view,
    shortcuts: config.shortcuts || new Shortcuts(),
    focused: view.cards.findIndex((card) => card.dataset.judged !== undefined),
    picker: null,
    correction: null,
    note: null,
    emit() {
      const result = answer.toResult();
      for (const listener of listeners) listener(result);
    },
    say(text) {
      if (messages) messages.textContent = text;
    },
    expand(card, button) {
      const step = data.steps[Number(card.dataset.index)];
      const target = card.querySelector("[data-content]");
      if (target.tagName === "PRE") target.textContent = pretty(step.content);
      else target.textContent = step.content;
      button.remove();
    },
  };
  const cleanups = bind(ctx);
  for (const marker of root.querySelectorAll(".tj-click")) placeClick(marker);

  function setResult(result) {
    answer.load(result);
    view.all();
    view.runPanel();
  }

  setResult(config.initial_result);
  if (ctx.focused >= 0) view.focus(ctx.focused, { scroll: false });
  performance.mark("trajectory-mounted");

  return {
    getResult: () => answer.toResult(),
    setResult,
    validate: () => answer.problems(),
    onChange(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      listeners.clear();
    },
  };
}
