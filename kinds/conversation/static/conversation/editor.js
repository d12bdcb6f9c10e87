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
 * Pieces: ./state.js (the settings, the answer, its result shape, loading and checking it; no
 * DOM), ./text.js (source alignment, offsets and word diffs), ./live.js (live mode's streamed
 * turns), ./dom.js (`el`); this module draws the units and wires the mouse and the keys.
 *
 * Long conversations stay responsive: a change re-renders its unit only, span highlights use the
 * CSS Custom Highlight API (no DOM surgery in the rendered Markdown), the source alignment of a
 * turn is computed on first use, and the rewrite diff runs after typing pauses.
 */

import { debounce } from "../js/lib/debounce.js";
import { Shortcuts } from "../js/lib/keyboard.js";
import { el } from "./dom.js";
import { mountLive } from "./live.js";
import { editorSettings, emptyAnswer, freshWritten, loadResult, problemsOf, resultOf, SEVERITIES } from "./state.js";
import { alignRendered, rangesFor, selectionOffsets, sliceCodePoints, wordDiff } from "./text.js";

export { judgedTurns } from "./state.js";

const GROUP = "Conversation";

export function mount(root, config) {
  const settings = editorSettings(config.schema || {}, config.data || {});
  const { messages, candidatesData, perTurn, perConversation, errorTypes, writeStyle, judged, applies, spansAllowed, severityOf } = settings;
  const shortcuts = config.shortcuts || new Shortcuts();
  const listeners = new Set();
  const cleanups = [];
  const highlights = typeof CSS !== "undefined" && CSS.highlights && typeof Highlight !== "undefined"
    ? Object.fromEntries(SEVERITIES.map((severity) => [severity, new Highlight()]))
    : null;
  if (highlights) {
    for (const severity of SEVERITIES) CSS.highlights.set(`conv-${severity}`, highlights[severity]);
  }

  // --- the answer (state.js: no DOM) -----------------------------------------------------------

  const answer = emptyAnswer(settings);
  const getResult = () => resultOf(answer, settings);

  function emit() {
    const result = getResult();
    for (const listener of listeners) listener(result);
  }

  // --- units -----------------------------------------------------------------------------------

  let advancedFrom = null; // the row a digit just scored and moved on from (see moveRow)
  const units = [];
  const turnItems = new Map([...root.querySelectorAll(".chat-turn[data-index]")].map((li) => [Number(li.dataset.index), li]));
  const candidateCards = new Map([...root.querySelectorAll("[data-candidate]")].map((card) => [card.dataset.candidate, card]));

  function unitPart(unit) {
    if (unit.kind === "turn") return answer.turns.get(unit.index);
    if (unit.kind === "candidate") return answer.candidates.get(unit.id);
    if (unit.kind === "conversation") return answer;
    return null;
  }

  function criteriaRows(unit, list) {
    const box = el("div", { className: "rubric", role: "group", "aria-label": "Scores" });
    unit.rows = list.map((criterion) => {
      const points = el("div", { className: "points", role: "radiogroup", "aria-label": criterion.name });
      for (let p = 1; p <= criterion.scale; p += 1) {
        const words = (criterion.labels || [])[p - 1] || "";
        points.append(el("button", {
          type: "button",
          role: "radio",
          "aria-checked": "false",
          title: words ? `${p} — ${words}` : String(p),
          dataset: { point: String(p) },
        }, String(p)));
      }
      const row = el("div", { className: "rubric-criterion", dataset: { criterion: criterion.name }, "data-testid": "criterion" },
        el("span", { className: "criterion-name" }, criterion.name), points, el("span", { className: "point-words" }));
      box.append(row);
      return { criterion, row, points };
    });
    return box;
  }

  function spanBox(unit) {
    const list = el("ul", { className: "span-list", "data-testid": "span-list", "aria-label": "Marked spans" });
    unit.spanList = list;
    return list;
  }

  function addUnit(unit, at = units.length) {
    units.splice(at, 0, unit);
    unit.el.classList.add("conv-unit");
    units.forEach((u, i) => {
      u.position = i;
      u.el.dataset.unit = String(i);
    });
  }

  function addTurnUnit(index, li, at = units.length) {
    const unit = { kind: "turn", index, el: li, content: messages[index].content, contentEl: li.querySelector("[data-content]") };
    li.dataset.judged = "true";
    const panel = el("div", { className: "turn-panel", "data-testid": "turn-panel" });
    if (applies.rate && perTurn.length) panel.append(criteriaRows(unit, perTurn));
    if (spansAllowed) panel.append(spanBox(unit));
    if (applies.rewrite) {
      unit.rewriteButton = el("button", { type: "button", dataset: { action: "rewrite" } }, "Rewrite ", el("kbd", {}, "W"));
      unit.rewriteBox = el("div", { className: "rewrite", hidden: true, "data-testid": "rewrite" },
        el("label", { className: "rewrite-label" }, "The turn as it should have been (", el("kbd", {}, "Esc"), " to leave)"),
        el("textarea", { className: "rewrite-text", rows: "6", "data-testid": "rewrite-text", "aria-label": `Rewrite of turn ${index}` }),
        el("div", { className: "rewrite-diff", "data-testid": "rewrite-diff", "aria-label": "Changes against the original" }),
        el("button", { type: "button", className: "link danger", dataset: { action: "drop-rewrite" } }, "Drop the rewrite"));
      panel.append(unit.rewriteButton, unit.rewriteBox);
    }
    li.append(panel);
    addUnit(unit, at);
    return unit;
  }

  for (const index of judged) {
    const li = turnItems.get(index);
    if (li) addTurnUnit(index, li);
  }
  if (applies.compare) {
    for (const candidate of candidatesData) {
      const card = candidateCards.get(candidate.id);
      if (!card) continue;
      const unit = { kind: "candidate", id: candidate.id, el: card, content: candidate.content, contentEl: card.querySelector("[data-content]") };
      const panel = el("div", { className: "turn-panel" });
      if (perTurn.length) panel.append(criteriaRows(unit, perTurn));
      if (spansAllowed) panel.append(spanBox(unit));
      panel.append(el("button", { type: "button", dataset: { action: "rank" } }, "Rank next ", el("kbd", {}, "O")));
      card.append(panel);
      addUnit(unit);
    }
  }
  const levelSection = root.querySelector(".conv-level");
  if (applies.rate && perConversation.length && levelSection) {
    levelSection.hidden = false;
    const unit = { kind: "conversation", el: levelSection };
    levelSection.append(criteriaRows(unit, perConversation));
    addUnit(unit);
  }
  const writeSection = root.querySelector(".conv-write");
  const writtenList = writeSection && writeSection.querySelector(".written-list");
  if (applies.write && writeSection) {
    writeSection.hidden = false;
    writeSection.querySelector(".write-actions").hidden = writeStyle !== "conversation";
    addUnit({ kind: "write", el: writeSection });
  }
  const orderLine = root.querySelector(".conv-order");
  const rationale = root.querySelector(".conv-rationale-text");
  const picker = root.querySelector(".span-picker");

  let focusedUnit = 0;
  let focusedRow = 0;

  // --- rendering (one unit at a time) ----------------------------------------------------------

  function alignmentOf(unit) {
    if (!unit.alignment) unit.alignment = alignRendered(unit.contentEl, unit.content);
    return unit.alignment;
  }

  function renderHighlights(unit) {
    if (!highlights || !unit.contentEl) return;
    for (const { severity, range } of unit.ranges || []) highlights[severity].delete(range);
    unit.ranges = [];
    const part = unitPart(unit);
    if (!part.spans.length) return;
    const alignment = alignmentOf(unit);
    for (const span of part.spans) {
      const severity = severityOf[span.type] || "major";
      for (const range of rangesFor(alignment, span.start, span.end)) {
        highlights[severity].add(range);
        unit.ranges.push({ severity, range });
      }
    }
  }

  function renderSpans(unit) {
    if (!unit.spanList) return;
    const part = unitPart(unit);
    unit.spanList.replaceChildren(...part.spans.map((span, i) => el("li", { className: `span-item severity-${severityOf[span.type] || "major"}`, "data-testid": "span-item" },
      el("span", { className: "badge" }, span.type),
      el("q", {}, sliceCodePoints(unit.content, span.start, span.end).slice(0, 200)),
      el("input", { type: "text", className: "span-note", placeholder: "note (optional)", value: span.note || "", "aria-label": `Note on span ${i + 1}`, dataset: { span: String(i) } }),
      el("button", { type: "button", className: "link danger", dataset: { action: "remove-span", span: String(i) }, "aria-label": `Remove span ${i + 1}` }, "Remove"))));
    renderHighlights(unit);
  }

  function renderRows(unit) {
    const part = unitPart(unit);
    for (const [i, { criterion, row, points }] of (unit.rows || []).entries()) {
      const value = part.scores[criterion.name];
      for (const button of points.children) button.setAttribute("aria-checked", String(Number(button.dataset.point) === value));
      row.classList.toggle("focused", unit.position === focusedUnit && i === focusedRow);
      row.classList.toggle("missing", value === undefined);
      const words = value ? (criterion.labels || [])[value - 1] : "";
      row.querySelector(".point-words").textContent = value ? `${value}${words ? ` — ${words}` : ""}` : "";
    }
  }

  const diffLater = new Map();
  function renderDiff(unit) {
    const part = unitPart(unit);
    const box = unit.rewriteBox.querySelector(".rewrite-diff");
    if (part.rewrite === null) {
      box.replaceChildren();
      return;
    }
    box.replaceChildren(...wordDiff(unit.content, part.rewrite).map(([op, text]) => (
      op === "same" ? document.createTextNode(text) : el(op, {}, text))));
  }

  function renderRewrite(unit) {
    if (!unit.rewriteBox) return;
    const part = unitPart(unit);
    const open = part.rewrite !== null;
    unit.rewriteBox.hidden = !open;
    unit.rewriteButton.hidden = open;
    const text = unit.rewriteBox.querySelector("textarea");
    if (open && text.value !== part.rewrite) text.value = part.rewrite;
    unit.el.classList.toggle("rewritten", open);
    if (!diffLater.has(unit)) diffLater.set(unit, debounce(() => renderDiff(unit), 120));
    diffLater.get(unit)();
  }

  function renderWritten() {
    if (!writtenList) return;
    const fields = writtenList.querySelectorAll("textarea");
    if (fields.length === answer.written.length) {
      answer.written.forEach((m, i) => { if (fields[i].value !== m.content) fields[i].value = m.content; });
      return;
    }
    writtenList.replaceChildren(...answer.written.map((m, i) => el("li", { className: `written role-${m.role}` },
      el("label", {}, el("span", { className: "turn-role" }, m.role),
        el("textarea", { rows: m.role === "assistant" ? "6" : "3", className: "written-text", "data-testid": "written-text", dataset: { written: String(i) }, "aria-label": `Written ${m.role} turn` })))));
    writtenList.querySelectorAll("textarea").forEach((field, i) => { field.value = answer.written[i].content; });
  }

  function renderOrder() {
    if (!orderLine) return;
    const unranked = candidatesData.map((c) => c.id).filter((id) => !answer.order.includes(id));
    orderLine.textContent = answer.order.length
      ? `Order: ${answer.order.join(" > ")}${unranked.length ? ` · not ranked yet: ${unranked.join(", ")}` : ""}`
      : `Not ranked yet: ${unranked.join(", ")}`;
    for (const [id, card] of candidateCards) {
      const rank = answer.order.indexOf(id);
      card.querySelector(".rank-badge").textContent = rank >= 0 ? `#${rank + 1}` : "";
    }
  }

  function renderFocus() {
    units.forEach((unit) => unit.el.classList.toggle("focused", unit.position === focusedUnit));
    const unit = units[focusedUnit];
    if (unit) renderRows(unit);
  }

  function renderUnit(unit) {
    renderRows(unit);
    renderSpans(unit);
    renderRewrite(unit);
  }

  function renderAll() {
    units.forEach(renderUnit);
    renderWritten();
    renderOrder();
    renderFocus();
    if (rationale && rationale.value !== answer.rationale) rationale.value = answer.rationale;
  }

  // --- actions ---------------------------------------------------------------------------------

  function focusUnit(position, { scroll = true } = {}) {
    if (!units.length) return false;
    const previous = units[focusedUnit];
    advancedFrom = null;
    focusedUnit = Math.max(0, Math.min(units.length - 1, position));
    focusedRow = 0;
    if (previous && previous !== units[focusedUnit]) renderRows(previous);
    renderFocus();
    if (scroll) units[focusedUnit].el.scrollIntoView({ block: "nearest" });
    return true;
  }

  // A digit scores the focused criterion and moves on to the next one (said in the status line).
  // The arrow pressed right after it counts from the criterion just scored, so it does what it
  // says: ↓ goes to the next criterion (where the digit already moved: it stays), ↑ back to the
  // one just scored. "1 ↓ 3 ↓ 1" scores three criteria in a row, whatever the habit.

  function moveRow(step) {
    const unit = units[focusedUnit];
    if (!unit || !unit.rows || !unit.rows.length) return false;
    const from = advancedFrom !== null ? advancedFrom : focusedRow;
    advancedFrom = null;
    focusedRow = Math.max(0, Math.min(unit.rows.length - 1, from + step));
    renderRows(unit);
    sayRow(unit, "");
    return true;
  }

  function sayRow(unit, before) {
    const status = root.querySelector("[data-testid=score-status]");
    if (!status) return;
    const { criterion } = unit.rows[focusedRow];
    status.textContent = `${before}Now: ${criterion.name}`;
  }

  function score(point) {
    const unit = units[focusedUnit];
    if (!unit || !unit.rows || !unit.rows.length) return false;
    const { criterion } = unit.rows[focusedRow];
    if (point < 1 || point > criterion.scale) return false;
    unitPart(unit).scores[criterion.name] = point;
    const scored = focusedRow;
    if (focusedRow < unit.rows.length - 1) focusedRow += 1; // on to the next criterion
    advancedFrom = focusedRow !== scored ? scored : null;
    renderRows(unit);
    sayRow(unit, `${criterion.name} ${point}${focusedRow !== scored ? " → " : " · "}`);
    emit();
    return true;
  }

  function unitOfNode(node) {
    const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    const holder = element && element.closest(".conv-unit");
    return holder ? units[Number(holder.dataset.unit)] : null;
  }

  let pending = null; // { unit, start, end } while the type picker is open

  function closePicker() {
    pending = null;
    if (picker) picker.hidden = true;
  }

  function openPicker() {
    if (!spansAllowed || !picker) return false;
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return false;
    const range = selection.getRangeAt(0);
    const unit = unitOfNode(range.commonAncestorContainer);
    if (!unit || !unit.contentEl || !unit.contentEl.contains(range.commonAncestorContainer)) return false;
    const offsets = selectionOffsets(range, alignmentOf(unit));
    if (!offsets) return false;
    pending = { unit, ...offsets };
    picker.replaceChildren(
      el("p", {}, "Mark as (digit or click; Esc to cancel):"),
      ...errorTypes.map((type, i) => el("button", { type: "button", dataset: { type: type.name }, className: `severity-${type.severity || "major"}` },
        el("kbd", {}, String(i + 1)), ` ${type.name} `, el("span", { className: "help" }, type.severity || "major"))));
    const box = range.getBoundingClientRect();
    picker.hidden = false;
    picker.style.top = `${Math.round(box.bottom + 6)}px`;
    picker.style.left = `${Math.round(Math.max(8, Math.min(box.left, window.innerWidth - 320)))}px`;
    if (focusedUnit !== unit.position) focusUnit(unit.position, { scroll: false });
    return true;
  }

  function markAs(typeName) {
    if (!pending) return false;
    const { unit, start, end } = pending;
    const part = unitPart(unit);
    if (!part.spans.some((s) => s.start === start && s.end === end && s.type === typeName)) {
      part.spans.push({ start, end, type: typeName });
      part.spans.sort((a, b) => a.start - b.start || a.end - b.end || a.type.localeCompare(b.type));
    }
    closePicker();
    window.getSelection().removeAllRanges();
    renderSpans(unit);
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
    const unit = units[focusedUnit];
    if (!unit) return false;
    if (unit.kind === "write") return toWriteBox();
    if (unit.kind !== "turn" || !unit.rewriteBox) return toWriteBox();
    const part = unitPart(unit);
    if (part.rewrite === null) {
      part.rewrite = unit.content;
      renderRewrite(unit);
      emit();
    }
    const text = unit.rewriteBox.querySelector("textarea");
    text.focus();
    return true;
  }

  function rankNext() {
    const unit = units[focusedUnit];
    if (!unit || unit.kind !== "candidate") return false;
    answer.order = answer.order.filter((id) => id !== unit.id);
    answer.order.push(unit.id);
    renderOrder();
    emit();
    return true;
  }

  function addExchange() {
    if (!applies.write || writeStyle !== "conversation") return false;
    answer.written.push({ role: "user", content: "" }, { role: "assistant", content: "" });
    renderWritten();
    emit();
    const fields = writtenList.querySelectorAll("textarea");
    fields[fields.length - 2].focus();
    return true;
  }

  function removeExchange() {
    const minimum = freshWritten(settings).length;
    if (answer.written.length - 2 < minimum) return false;
    answer.written.splice(-2, 2);
    renderWritten();
    emit();
    return true;
  }

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
      const unit = addTurnUnit(finished.index, reply, at);
      renderUnit(unit);
      focusUnit(at);
      emit();
    },
  });
  if (liveChat) cleanups.push(() => liveChat.destroy());

  // --- mouse and typing ------------------------------------------------------------------------

  function onClick(event) {
    const point = event.target.closest("[data-point]");
    const unit = unitOfNode(event.target);
    if (point && unit) {
      const row = point.closest("[data-criterion]");
      const index = unit.rows.findIndex((r) => r.row === row);
      if (unit.position !== focusedUnit) focusUnit(unit.position, { scroll: false });
      focusedRow = index;
      score(Number(point.dataset.point));
      return;
    }
    const typeButton = event.target.closest(".span-picker [data-type]");
    if (typeButton) return markAs(typeButton.dataset.type);
    const action = event.target.closest("[data-action]");
    if (action && unit) {
      if (unit.position !== focusedUnit) focusUnit(unit.position, { scroll: false });
      if (action.dataset.action === "rewrite") startRewrite();
      if (action.dataset.action === "drop-rewrite") {
        unitPart(unit).rewrite = null;
        renderRewrite(unit);
        emit();
      }
      if (action.dataset.action === "remove-span") {
        unitPart(unit).spans.splice(Number(action.dataset.span), 1);
        renderSpans(unit);
        emit();
      }
      if (action.dataset.action === "rank") rankNext();
      if (action.dataset.action === "add-exchange") addExchange();
      if (action.dataset.action === "remove-exchange") removeExchange();
      return;
    }
    if (unit && unit.position !== focusedUnit && window.getSelection().isCollapsed) focusUnit(unit.position, { scroll: false });
  }

  function onInput(event) {
    const target = event.target;
    if (target === rationale) {
      answer.rationale = rationale.value;
      emit();
      return;
    }
    if (target.classList.contains("rewrite-text")) {
      const unit = unitOfNode(target);
      unitPart(unit).rewrite = target.value;
      diffLater.get(unit)();
      emit();
      return;
    }
    if (target.classList.contains("span-note")) {
      const unit = unitOfNode(target);
      const span = unitPart(unit).spans[Number(target.dataset.span)];
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
  cleanups.push(() => {
    root.removeEventListener("click", onClick);
    root.removeEventListener("input", onInput);
  });

  // --- keys ------------------------------------------------------------------------------------

  const add = (keys, description, run, extra = {}) =>
    cleanups.push(shortcuts.add({ keys, description, group: GROUP, run, ...extra }));
  add(["]"], "Next turn (or candidate, or the whole conversation)", () => { closePicker(); return focusUnit(focusedUnit + 1); });
  add(["["], "Previous turn", () => { closePicker(); return focusUnit(focusedUnit - 1); });
  add(["arrowdown", "j"], "Next criterion of the turn", () => moveRow(1));
  add(["arrowup", "k"], "Previous criterion of the turn", () => moveRow(-1));
  const digits = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
  add(digits, "Score the criterion and move to the next (an arrow right after counts from the one scored); with the span picker open: choose the error type", (event) => {
    const match = /^(?:Digit|Numpad)(\d)$/.exec(event.code || "");
    const digit = Number(match ? match[1] : event.key);
    if (pending) {
      const type = errorTypes[digit - 1];
      return type ? markAs(type.name) : false;
    }
    return score(digit);
  });
  if (spansAllowed) add(["m"], "Mark the selected text as an error span", openPicker);
  if (applies.rewrite || applies.write) add(["w"], "Rewrite the turn, or write the reply (from any card)", startRewrite);
  if (applies.compare) {
    add(["o"], "Rank the candidate next", rankNext);
    add(["x"], "Clear the candidates' order", () => { answer.order = []; renderOrder(); emit(); });
  }
  if (applies.write && writeStyle === "conversation") add(["alt+n"], "Add a user turn and a reply", addExchange, { inInputs: true });
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
    if (pending) {
      closePicker();
      return true;
    }
    const active = document.activeElement;
    if (active && root.contains(active) && (active.tagName === "TEXTAREA" || active.tagName === "INPUT")) {
      active.blur();
      return true;
    }
    return false;
  }, { inInputs: true });

  // --- the contract ----------------------------------------------------------------------------

  function setResult(result) {
    loadResult(answer, result, settings);
    focusedUnit = Math.min(focusedUnit, Math.max(0, units.length - 1));
    focusedRow = 0;
    renderAll();
    emit();
  }

  const validate = () => problemsOf(answer, settings);

  setResult(config.initial_result);
  if (units.length) focusUnit(0, { scroll: false });

  /** After a blocked Submit: mark every criterion still without a score and return the first
   * one's first point (the focus goes there), else the first unranked candidate. */
  function showMissing() {
    root.dataset.showMissing = "true";
    for (const unit of units) {
      const part = unitPart(unit);
      if (!part || !unit.rows) continue;
      const row = unit.rows.find(({ criterion }) => part.scores[criterion.name] === undefined);
      if (row) {
        focusUnit(unit.position, { scroll: false });
        return row.points.querySelector("button");
      }
    }
    if (applies.compare) {
      const unranked = candidatesData.find((c) => !answer.order.includes(c.id));
      if (unranked) return candidateCards.get(unranked.id) || null;
    }
    return null;
  }

  /** How many scores are still to give, plus the candidates still to rank. */
  function missingCount() {
    let n = 0;
    for (const unit of units) {
      const part = unitPart(unit);
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
