/**
 * The conversation editor: `mount(root, config)` → { getResult, setResult, validate, onChange, destroy }.
 *
 * The template renders the chat and the candidates (Markdown, escaped and cleaned on the server);
 * this module adds, per *unit* (a judged assistant turn, a candidate, the whole conversation, the
 * writing area), the rubric (a row of points per criterion), span marks, the rewrite with its word
 * diff, the candidates' order, the written turns and the rationale. Keyboard first: `[` `]` move
 * between units, ↑ ↓ between criteria, digits score, select text then `M` marks it (a digit picks
 * the error type), `W` rewrites the turn (or writes), `O` ranks a candidate next, `R` the rationale,
 * Esc leaves a text box.
 *
 * Pieces, as the box editor's: ./state.js (the settings, the answer, its result shape, loading and
 * checking it; no DOM), ./units.js (the units and their panels), ./render.js (drawing a unit from
 * the answer), ./handlers.js (one function per action, the mouse, typing and keys), ./live.js
 * (live mode's streamed turns), ./text.js (source alignment, offsets and word diffs), ./dom.js
 * (`el`). This module wires them together and keeps the editor contract.
 *
 * Long conversations stay responsive: a change re-renders its unit only, span highlights use the
 * CSS Custom Highlight API (no DOM surgery in the rendered Markdown), the source alignment of a
 * turn is computed on first use, and the rewrite diff runs after typing pauses.
 */

import { Shortcuts } from "../js/lib/keyboard.js";
import { actions, addKeys, attachInput } from "./handlers.js";
import { mountLive } from "./live.js";
import { renderer } from "./render.js";
import { editorSettings, emptyAnswer, loadResult, problemsOf, resultOf, SEVERITIES } from "./state.js";
import { addTurnUnit, buildUnits, unitPart } from "./units.js";

export { judgedTurns } from "./state.js";

const GROUP = "Conversation";

export function mount(root, config) {
  const settings = editorSettings(config.schema || {}, config.data || {});
  const { messages, candidatesData, judged, applies } = settings;
  const shortcuts = config.shortcuts || new Shortcuts();
  const listeners = new Set();
  const cleanups = [];
  const highlights = typeof CSS !== "undefined" && CSS.highlights && typeof Highlight !== "undefined"
    ? Object.fromEntries(SEVERITIES.map((severity) => [severity, new Highlight()]))
    : null;
  if (highlights) {
    for (const severity of SEVERITIES) CSS.highlights.set(`conv-${severity}`, highlights[severity]);
  }

  const answer = emptyAnswer(settings); // state.js: no DOM
  const getResult = () => resultOf(answer, settings);

  const writeSection = root.querySelector(".conv-write");
  const editor = {
    root,
    settings,
    answer,
    highlights,
    units: [],
    // the focused unit and criterion; the row a digit just scored and moved on from (see
    // handlers.js, moveRow); the selection waiting for its error type while the picker is open
    ui: { focusedUnit: 0, focusedRow: 0, advancedFrom: null, pending: null },
    turnItems: new Map([...root.querySelectorAll(".chat-turn[data-index]")].map((li) => [Number(li.dataset.index), li])),
    candidateCards: new Map([...root.querySelectorAll("[data-candidate]")].map((card) => [card.dataset.candidate, card])),
    levelSection: root.querySelector(".conv-level"),
    writeSection,
    writtenList: writeSection && writeSection.querySelector(".written-list"),
    orderLine: root.querySelector(".conv-order"),
    rationale: root.querySelector(".conv-rationale-text"),
    picker: root.querySelector(".span-picker"),
    emit() {
      const result = getResult();
      for (const listener of listeners) listener(result);
    },
  };
  const { units, ui, emit } = editor;
  buildUnits(editor);
  const draw = renderer(editor);
  const act = actions(editor, draw);

  // --- live mode: the contributor's turns go to the project's model, its replies stream in ------

  const liveBox = root.querySelector(".live-box");
  const liveChat = liveBox && mountLive({
    liveBox,
    chat: root.querySelector(".chat"),
    onStored(finished, reply) {
      messages.push(finished.user, finished.message); // the stored conversation, as the server has it
      judged.push(finished.index);
      answer.turns.set(finished.index, { scores: {}, spans: [], rewrite: null });
      const at = units.filter((u) => u.kind === "turn").length;
      const unit = addTurnUnit(editor, finished.index, reply, at);
      draw.renderUnit(unit);
      act.focusUnit(at);
      emit();
    },
  });
  if (liveChat) cleanups.push(() => liveChat.destroy());

  // --- mouse, typing and keys (handlers.js) ------------------------------------------------------

  cleanups.push(attachInput(editor, draw, act));
  addKeys(editor, act, (keys, description, run, extra = {}) =>
    cleanups.push(shortcuts.add({ keys, description, group: GROUP, run, ...extra })), liveChat);

  // --- the contract ----------------------------------------------------------------------------

  function setResult(result) {
    loadResult(answer, result, settings);
    ui.focusedUnit = Math.min(ui.focusedUnit, Math.max(0, units.length - 1));
    ui.focusedRow = 0;
    draw.renderAll();
    emit();
  }

  const validate = () => problemsOf(answer, settings);

  setResult(config.initial_result);
  if (units.length) act.focusUnit(0, { scroll: false });

  /** After a blocked Submit: mark every criterion still without a score and return the first
   * one's first point (the focus goes there), else the first unranked candidate. */
  function showMissing() {
    root.dataset.showMissing = "true";
    for (const unit of units) {
      const part = unitPart(answer, unit);
      if (!part || !unit.rows) continue;
      const row = unit.rows.find(({ criterion }) => part.scores[criterion.name] === undefined);
      if (row) {
        act.focusUnit(unit.position, { scroll: false });
        return row.points.querySelector("button");
      }
    }
    if (applies.compare) {
      const unranked = candidatesData.find((c) => !answer.order.includes(c.id));
      if (unranked) return editor.candidateCards.get(unranked.id) || null;
    }
    return null;
  }

  /** How many scores are still to give, plus the candidates still to rank. */
  function missingCount() {
    let n = 0;
    for (const unit of units) {
      const part = unitPart(answer, unit);
      if (part && unit.rows) n += unit.rows.filter(({ criterion }) => part.scores[criterion.name] === undefined).length;
    }
    if (applies.compare) n += candidatesData.filter((c) => !answer.order.includes(c.id)).length;
    return n;
  }

  return {
    getResult,
    setResult,
    validate,
    showMissing,
    missingCount,
    onChange(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    destroy() {
      cleanups.forEach((cleanup) => cleanup());
      listeners.clear();
      if (highlights) for (const severity of SEVERITIES) CSS.highlights.delete(`conv-${severity}`);
    },
  };
}
