/**
 * Input of the conversation editor, one function per action: move between units and criteria,
 * score, mark a span (select, `M`, pick its type), rewrite or write, rank a candidate, add or drop
 * an exchange; then the mouse and typing (`attachInput`) and the keys (`addKeys`) that call them.
 *
 * Each action changes the answer, redraws what changed through the renderer (`draw`) and tells
 * the listeners (`editor.emit`); it returns whether it did something (a key that did nothing is
 * left to the page).
 */

import { freshWritten } from "./state.js";
import { selectionOffsets } from "./text.js";
import { el } from "./dom.js";
import { unitOfNode, unitPart } from "./units.js";

export function actions(editor, draw) {
  const { root, answer, ui, units, settings, picker, writtenList, emit } = editor;
  const { errorTypes, writeStyle, applies, spansAllowed } = settings;
  const part = (unit) => unitPart(answer, unit);

  function focusUnit(position, { scroll = true } = {}) {
    if (!units.length) return false;
    const previous = units[ui.focusedUnit];
    ui.advancedFrom = null;
    ui.focusedUnit = Math.max(0, Math.min(units.length - 1, position));
    ui.focusedRow = 0;
    if (previous && previous !== units[ui.focusedUnit]) draw.renderRows(previous);
    draw.renderFocus();
    if (scroll) units[ui.focusedUnit].el.scrollIntoView({ block: "nearest" });
    return true;
  }

  function sayRow(unit, before) {
    const status = root.querySelector("[data-testid=score-status]");
    if (!status) return;
    const { criterion } = unit.rows[ui.focusedRow];
    status.textContent = `${before}Now: ${criterion.name}`;
  }

  // A digit scores the focused criterion and moves on to the next one (said in the status line).
  // The arrow pressed right after it counts from the criterion just scored, so it does what it
  // says: ↓ goes to the next criterion (where the digit already moved: it stays), ↑ back to the
  // one just scored. "1 ↓ 3 ↓ 1" scores three criteria in a row, whatever the habit.

  function moveRow(step) {
    const unit = units[ui.focusedUnit];
    if (!unit || !unit.rows || !unit.rows.length) return false;
    const from = ui.advancedFrom !== null ? ui.advancedFrom : ui.focusedRow;
    ui.advancedFrom = null;
    ui.focusedRow = Math.max(0, Math.min(unit.rows.length - 1, from + step));
    draw.renderRows(unit);
    sayRow(unit, "");
    return true;
  }

  function score(point) {
    const unit = units[ui.focusedUnit];
    if (!unit || !unit.rows || !unit.rows.length) return false;
    const { criterion } = unit.rows[ui.focusedRow];
    if (point < 1 || point > criterion.scale) return false;
    part(unit).scores[criterion.name] = point;
    const scored = ui.focusedRow;
    if (ui.focusedRow < unit.rows.length - 1) ui.focusedRow += 1; // on to the next criterion
    ui.advancedFrom = ui.focusedRow !== scored ? scored : null;
    draw.renderRows(unit);
    sayRow(unit, `${criterion.name} ${point}${ui.focusedRow !== scored ? " → " : " · "}`);
    emit();
    return true;
  }

  /** A click on a point: that criterion of that unit, scored. */
  function scoreAt(unit, row, point) {
    if (unit.position !== ui.focusedUnit) focusUnit(unit.position, { scroll: false });
    ui.focusedRow = unit.rows.findIndex((r) => r.row === row);
    return score(point);
  }

  // ui.pending is { unit, start, end } while the type picker is open.

  function closePicker() {
    ui.pending = null;
    if (picker) picker.hidden = true;
  }

  function openPicker() {
    if (!spansAllowed || !picker) return false;
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return false;
    const range = selection.getRangeAt(0);
    const unit = unitOfNode(editor, range.commonAncestorContainer);
    if (!unit || !unit.contentEl || !unit.contentEl.contains(range.commonAncestorContainer)) return false;
    const offsets = selectionOffsets(range, draw.alignmentOf(unit));
    if (!offsets) return false;
    ui.pending = { unit, ...offsets };
    picker.replaceChildren(
      el("p", {}, "Mark as (digit or click; Esc to cancel):"),
      ...errorTypes.map((type, i) => el("button", { type: "button", dataset: { type: type.name }, className: `severity-${type.severity || "major"}` },
        el("kbd", {}, String(i + 1)), ` ${type.name} `, el("span", { className: "help" }, type.severity || "major"))));
    const box = range.getBoundingClientRect();
    picker.hidden = false;
    picker.style.top = `${Math.round(box.bottom + 6)}px`;
    picker.style.left = `${Math.round(Math.max(8, Math.min(box.left, window.innerWidth - 320)))}px`;
    if (ui.focusedUnit !== unit.position) focusUnit(unit.position, { scroll: false });
    return true;
  }

  function markAs(typeName) {
    if (!ui.pending) return false;
    const { unit, start, end } = ui.pending;
    const { spans } = part(unit);
    if (!spans.some((s) => s.start === start && s.end === end && s.type === typeName)) {
      spans.push({ start, end, type: typeName });
      spans.sort((a, b) => a.start - b.start || a.end - b.end || a.type.localeCompare(b.type));
    }
    closePicker();
    window.getSelection().removeAllRanges();
    draw.renderSpans(unit);
    emit();
    return true;
  }

  function removeSpan(unit, index) {
    part(unit).spans.splice(index, 1);
    draw.renderSpans(unit);
    emit();
    return true;
  }

  /** The write box, from wherever the person is (a candidate card, the whole conversation): W
   * goes there directly, past every candidate. */
  function toWriteBox() {
    const field = applies.write && writtenList ? writtenList.querySelector("textarea") : null;
    if (!field) return false;
    const unit = units.find((u) => u.kind === "write");
    if (unit) focusUnit(unit.position, { scroll: false });
    field.focus();
    field.scrollIntoView({ block: "nearest" });
    return true;
  }

  function startRewrite() {
    const unit = units[ui.focusedUnit];
    if (!unit) return false;
    if (unit.kind === "write") return toWriteBox();
    if (unit.kind !== "turn" || !unit.rewriteBox) return toWriteBox();
    const turn = part(unit);
    if (turn.rewrite === null) {
      turn.rewrite = unit.content;
      draw.renderRewrite(unit);
      emit();
    }
    unit.rewriteBox.querySelector("textarea").focus();
    return true;
  }

  function dropRewrite(unit) {
    part(unit).rewrite = null;
    draw.renderRewrite(unit);
    emit();
    return true;
  }

  function rankNext() {
    const unit = units[ui.focusedUnit];
    if (!unit || unit.kind !== "candidate") return false;
    answer.order = answer.order.filter((id) => id !== unit.id);
    answer.order.push(unit.id);
    draw.renderOrder();
    emit();
    return true;
  }

  function clearOrder() {
    answer.order = [];
    draw.renderOrder();
    emit();
    return true;
  }

  function addExchange() {
    if (!applies.write || writeStyle !== "conversation") return false;
    answer.written.push({ role: "user", content: "" }, { role: "assistant", content: "" });
    draw.renderWritten();
    emit();
    const fields = writtenList.querySelectorAll("textarea");
    fields[fields.length - 2].focus();
    return true;
  }

  function removeExchange() {
    const minimum = freshWritten(settings).length;
    if (answer.written.length - 2 < minimum) return false;
    answer.written.splice(-2, 2);
    draw.renderWritten();
    emit();
    return true;
  }

  return {
    focusUnit, moveRow, score, scoreAt, openPicker, closePicker, markAs, removeSpan, toWriteBox,
    startRewrite, dropRewrite, rankNext, clearOrder, addExchange, removeExchange,
  };
}

/** The mouse and typing; returns a function that removes the listeners. */
export function attachInput(editor, draw, act) {
  const { root, answer, ui, rationale, emit } = editor;

  function onClick(event) {
    const point = event.target.closest("[data-point]");
    const unit = unitOfNode(editor, event.target);
    if (point && unit) {
      act.scoreAt(unit, point.closest("[data-criterion]"), Number(point.dataset.point));
      return;
    }
    const typeButton = event.target.closest(".span-picker [data-type]");
    if (typeButton) {
      act.markAs(typeButton.dataset.type);
      return;
    }
    const action = event.target.closest("[data-action]");
    if (action && unit) {
      if (unit.position !== ui.focusedUnit) act.focusUnit(unit.position, { scroll: false });
      const name = action.dataset.action;
      if (name === "rewrite") act.startRewrite();
      if (name === "drop-rewrite") act.dropRewrite(unit);
      if (name === "remove-span") act.removeSpan(unit, Number(action.dataset.span));
      if (name === "rank") act.rankNext();
      if (name === "add-exchange") act.addExchange();
      if (name === "remove-exchange") act.removeExchange();
      return;
    }
    if (unit && unit.position !== ui.focusedUnit && window.getSelection().isCollapsed) act.focusUnit(unit.position, { scroll: false });
  }

  function onInput(event) {
    const target = event.target;
    if (target === rationale) {
      answer.rationale = rationale.value;
      emit();
      return;
    }
    if (target.classList.contains("rewrite-text")) {
      const unit = unitOfNode(editor, target);
      unitPart(answer, unit).rewrite = target.value;
      draw.diffSoon(unit);
      emit();
      return;
    }
    if (target.classList.contains("span-note")) {
      const unit = unitOfNode(editor, target);
      const span = unitPart(answer, unit).spans[Number(target.dataset.span)];
      if (span) {
        if (target.value.trim()) span.note = target.value;
        else delete span.note;
        emit();
      }
      return;
    }
    if (target.classList.contains("written-text")) {
      answer.written[Number(target.dataset.written)].content = target.value;
      emit();
    }
  }

  root.addEventListener("click", onClick);
  root.addEventListener("input", onInput);
  return () => {
    root.removeEventListener("click", onClick);
    root.removeEventListener("input", onInput);
  };
}

/** The keys, through `add(keys, description, run, extra)` (the page's shortcut list). */
export function addKeys(editor, act, add, liveChat) {
  const { root, ui, rationale } = editor;
  const { errorTypes, writeStyle, applies, spansAllowed } = editor.settings;
  add(["]"], "Next turn (or candidate, or the whole conversation)", () => { act.closePicker(); return act.focusUnit(ui.focusedUnit + 1); });
  add(["["], "Previous turn", () => { act.closePicker(); return act.focusUnit(ui.focusedUnit - 1); });
  add(["arrowdown", "j"], "Next criterion of the turn", () => act.moveRow(1));
  add(["arrowup", "k"], "Previous criterion of the turn", () => act.moveRow(-1));
  const digits = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
  add(digits, "Score the criterion and move to the next (an arrow right after counts from the one scored); with the span picker open: choose the error type", (event) => {
    const match = /^(?:Digit|Numpad)(\d)$/.exec(event.code || "");
    const digit = Number(match ? match[1] : event.key);
    if (ui.pending) {
      const type = errorTypes[digit - 1];
      return type ? act.markAs(type.name) : false;
    }
    return act.score(digit);
  });
  if (spansAllowed) add(["m"], "Mark the selected text as an error span", act.openPicker);
  if (applies.rewrite || applies.write) add(["w"], "Rewrite the turn, or write the reply (from any card)", act.startRewrite);
  if (applies.compare) {
    add(["o"], "Rank the candidate next", act.rankNext);
    add(["x"], "Clear the candidates' order", act.clearOrder);
  }
  if (applies.write && writeStyle === "conversation") add(["alt+n"], "Add a user turn and a reply", act.addExchange, { inInputs: true });
  if (rationale) add(["r"], "Write the rationale", () => rationale.focus());
  if (liveChat) {
    add(["n"], "Write your next message to the model", () => liveChat.focus());
    add(["alt+enter"], "Send the message to the model", () => {
      if (!liveChat.owns(document.activeElement)) return false;
      liveChat.send();
      return true;
    }, { inInputs: true });
  }
  add(["escape"], "Leave a text box, or close the span picker", () => {
    if (ui.pending) {
      act.closePicker();
      return true;
    }
    const active = document.activeElement;
    if (active && root.contains(active) && (active.tagName === "TEXTAREA" || active.tagName === "INPUT")) {
      active.blur();
      return true;
    }
    return false;
  }, { inInputs: true });
}
