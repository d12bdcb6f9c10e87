/**
 * Drawing the conversation editor from its answer, one unit at a time: the rubric's points, the
 * marked spans (their list, and their highlights through the CSS Custom Highlight API: no DOM
 * surgery in the rendered Markdown), the rewrite and its word diff (after typing pauses), the
 * written turns, the candidates' order and the focus.
 *
 * `renderer(editor)` returns the drawing functions; `editor` gives the units, the answer, the
 * focus (`ui`) and the boxes the template rendered.
 */

import { debounce } from "../js/lib/debounce.js";
import { el } from "./dom.js";
import { unitPart } from "./units.js";
import { alignRendered, rangesFor, sliceCodePoints, wordDiff } from "./text.js";

export function renderer(editor) {
  const { answer, ui, highlights, writtenList, orderLine, rationale, candidateCards } = editor;
  const { candidatesData, severityOf } = editor.settings;
  const part = (unit) => unitPart(answer, unit);

  /** The source offsets of a unit's rendered text, computed on first use. */
  function alignmentOf(unit) {
    if (!unit.alignment) unit.alignment = alignRendered(unit.contentEl, unit.content);
    return unit.alignment;
  }

  function renderHighlights(unit) {
    if (!highlights || !unit.contentEl) return;
    for (const { severity, range } of unit.ranges || []) highlights[severity].delete(range);
    unit.ranges = [];
    const spans = part(unit).spans;
    if (!spans.length) return;
    const alignment = alignmentOf(unit);
    for (const span of spans) {
      const severity = severityOf[span.type] || "major";
      for (const range of rangesFor(alignment, span.start, span.end)) {
        highlights[severity].add(range);
        unit.ranges.push({ severity, range });
      }
    }
  }

  function renderSpans(unit) {
    if (!unit.spanList) return;
    unit.spanList.replaceChildren(...part(unit).spans.map((span, i) => el("li", { className: `span-item severity-${severityOf[span.type] || "major"}`, "data-testid": "span-item" },
      el("span", { className: "badge" }, span.type),
      el("q", {}, sliceCodePoints(unit.content, span.start, span.end).slice(0, 200)),
      el("input", { type: "text", className: "span-note", placeholder: "note (optional)", value: span.note || "", "aria-label": `Note on span ${i + 1}`, dataset: { span: String(i) } }),
      el("button", { type: "button", className: "link danger", dataset: { action: "remove-span", span: String(i) }, "aria-label": `Remove span ${i + 1}` }, "Remove"))));
    renderHighlights(unit);
  }

  function renderRows(unit) {
    const scores = (part(unit) || {}).scores;
    for (const [i, { criterion, row, points }] of (unit.rows || []).entries()) {
      const value = scores[criterion.name];
      for (const button of points.children) button.setAttribute("aria-checked", String(Number(button.dataset.point) === value));
      row.classList.toggle("focused", unit.position === ui.focusedUnit && i === ui.focusedRow);
      row.classList.toggle("missing", value === undefined);
      const words = value ? (criterion.labels || [])[value - 1] : "";
      row.querySelector(".point-words").textContent = value ? `${value}${words ? ` — ${words}` : ""}` : "";
    }
  }

  function renderDiff(unit) {
    const { rewrite } = part(unit);
    const box = unit.rewriteBox.querySelector(".rewrite-diff");
    if (rewrite === null) {
      box.replaceChildren();
      return;
    }
    box.replaceChildren(...wordDiff(unit.content, rewrite).map(([op, text]) => (
      op === "same" ? document.createTextNode(text) : el(op, {}, text))));
  }

  const diffLater = new Map();
  /** The rewrite's diff, redrawn once typing pauses. */
  function diffSoon(unit) {
    if (!diffLater.has(unit)) diffLater.set(unit, debounce(() => renderDiff(unit), 120));
    diffLater.get(unit)();
  }

  function renderRewrite(unit) {
    if (!unit.rewriteBox) return;
    const { rewrite } = part(unit);
    const open = rewrite !== null;
    unit.rewriteBox.hidden = !open;
    unit.rewriteButton.hidden = open;
    const text = unit.rewriteBox.querySelector("textarea");
    if (open && text.value !== rewrite) text.value = rewrite;
    unit.el.classList.toggle("rewritten", open);
    diffSoon(unit);
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
    editor.units.forEach((unit) => unit.el.classList.toggle("focused", unit.position === ui.focusedUnit));
    const unit = editor.units[ui.focusedUnit];
    if (unit) renderRows(unit);
  }

  function renderUnit(unit) {
    renderRows(unit);
    renderSpans(unit);
    renderRewrite(unit);
  }

  function renderAll() {
    editor.units.forEach(renderUnit);
    renderWritten();
    renderOrder();
    renderFocus();
    if (rationale && rationale.value !== answer.rationale) rationale.value = answer.rationale;
  }

  return { alignmentOf, diffSoon, renderSpans, renderRows, renderRewrite, renderWritten, renderOrder, renderFocus, renderUnit, renderAll };
}
